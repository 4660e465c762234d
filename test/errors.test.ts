/**
 * The error catalog is documented and the documentation is current: every
 * code appears in the README's table with its gRPC status and retry advice,
 * and the table names no code that no longer exists.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CATALOG, isLucienError, LucienError } from '../src/errors';

const readme = readFileSync(join(__dirname, '../README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Errors'), readme.indexOf('\n## ', readme.indexOf('## Errors') + 1));
const rows = [...section.matchAll(/^\| `([A-Z_]+)` \| `([A-Z_]+)` \| (yes|no) \|/gm)].map((m) => ({
  code: m[1] as string,
  status: m[2] as string,
  retry: m[3] === 'yes',
}));

test('every code of the catalog is in the README with its status and retry advice', () => {
  for (const [code, spec] of Object.entries(ERROR_CATALOG)) {
    expect(rows).toContainEqual({ code, status: spec.status, retry: spec.retryable });
  }
});

test('the README names no code the catalog lacks', () => {
  expect(rows.map((r) => r.code).filter((code) => !(code in ERROR_CATALOG))).toEqual([]);
  expect(rows.length).toBe(Object.keys(ERROR_CATALOG).length);
});

test('errors are recognised by code, not by class, across realms', () => {
  expect(isLucienError(new LucienError('NOT_FOUND', 'x'))).toBe(true);
  expect(isLucienError({ name: 'LucienError', code: 'NOT_FOUND', message: 'from another realm' })).toBe(true);
  expect(isLucienError({ name: 'LucienError', code: 'NO_SUCH_CODE' })).toBe(false);
  expect(isLucienError(new Error('plain'))).toBe(false);
});
