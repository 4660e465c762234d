/**
 * Bucket scopes in the auth file: patterns are checked when the file is
 * loaded (the server refuses to start on a bad one), and a principal's rights
 * as a script's bridge sees them (invoker rights) follow role and scope.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bucketAccess, loadAuthenticator, type Principal } from '../../src/server/auth';

const dir = mkdtempSync(join(tmpdir(), 'lucien-scopes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const load = (tokens: unknown[]) => {
  const file = join(dir, `auth-${Math.random()}.json`);
  writeFileSync(file, JSON.stringify({ tokens }));
  return () => loadAuthenticator(file);
};

test.each([[['posts', 'bad bucket']], [['comm*ents']], ['posts'], [[1]]])(
  'a token whose "buckets" is %j is refused at load',
  (buckets) => {
    expect(load([{ token: 'x'.repeat(16), role: 'write', buckets }])).toThrow(
      /tokens\[0\]\.buckets must be a list of bucket names or prefixes/,
    );
  },
);

test('a scoped writer may read and write its buckets and prefixes, nothing else; a reader may not write', () => {
  const scoped = bucketAccess({ name: 'blog', role: 'write', buckets: ['posts', 'comments*'] } as Principal);
  expect(scoped?.('posts', 'write')).toBeUndefined();
  expect(scoped?.('comments_2024', 'read')).toBeUndefined();
  expect(scoped?.('postsX', 'read')).toMatch(/may not read bucket "postsX"/);
  expect(scoped?.('secrets', 'write')).toMatch(/may not write bucket "secrets"/);
  const reader = bucketAccess({ name: 'r', role: 'read' } as Principal);
  expect(reader?.('posts', 'read')).toBeUndefined();
  expect(reader?.('posts', 'write')).toMatch(/role "read" and may not write/);
  // An unscoped writer needs no checks at all (the hot path stays as it was).
  expect(bucketAccess({ name: 'w', role: 'write' } as Principal)).toBeUndefined();
});
