/**
 * Authentication fails closed: with an auth file, calls without a token, with
 * an unknown or malformed token, or with a role too weak are refused, and a
 * refused write writes nothing.
 */
import { Metadata, status } from '@grpc/grpc-js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, errorCode, failure, type TestClient } from '../helpers/client';
import { type RunningServer, startServer } from '../helpers/server';

const TOKENS = {
  read: 'read-token-0123456789abcdef',
  write: 'write-token-0123456789abcdef',
  admin: 'admin-token-0123456789abcdef',
};
let server: RunningServer;
let client: TestClient;

const as = (role: keyof typeof TOKENS | 'none' | 'bogus' | 'malformed') => {
  const md = new Metadata();
  if (role === 'bogus') md.set('authorization', 'Bearer not-a-known-token-at-all');
  else if (role === 'malformed') md.set('authorization', TOKENS.admin);
  else if (role !== 'none') md.set('authorization', `Bearer ${TOKENS[role]}`);
  return md;
};

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lucien-auth-'));
  const file = join(dir, 'auth.json');
  writeFileSync(
    file,
    JSON.stringify({ tokens: Object.entries(TOKENS).map(([role, token]) => ({ name: role, token, role })) }),
  );
  server = await startServer({ args: ['--backend', 'memory', '--auth-file', file] });
  client = connect(server.address);
});

afterAll(async () => {
  client?.close();
  await server?.stop();
  server?.cleanup();
});

test.each(['none', 'bogus', 'malformed'] as const)(
  'a call with %s credentials is UNAUTHENTICATED and writes nothing',
  async (who) => {
    const err = await failure(client.call('Put', { bucket: 'b', key: 'k', value: '{}' }, as(who)));
    expect(err.code).toBe(status.UNAUTHENTICATED);
    expect(errorCode(err)).toBe('UNAUTHENTICATED');
    expect((await failure(client.call('Get', { bucket: 'b', key: 'k' }, as('read')))).code).toBe(status.NOT_FOUND);
  },
);

test('read may read but not write', async () => {
  await client.call('Put', { bucket: 'b', key: 'r', value: '{"v":1}' }, as('write'));
  expect(
    JSON.parse((await client.call<{ value: string }>('Get', { bucket: 'b', key: 'r' }, as('read'))).value),
  ).toEqual({ v: 1 });
  const err = await failure(client.call('Put', { bucket: 'b', key: 'r', value: '{"v":2}' }, as('read')));
  expect(err.code).toBe(status.PERMISSION_DENIED);
  expect(
    JSON.parse((await client.call<{ value: string }>('Get', { bucket: 'b', key: 'r' }, as('read'))).value),
  ).toEqual({ v: 1 });
});

test('write may run scripts but only admin may register them, by PutScript or by Put into _scripts; read may run a script that only reads', async () => {
  const source = 'result = 7';
  expect((await failure(client.call('PutScript', { name: 's', engine: 'javascript', source }, as('write')))).code).toBe(
    status.PERMISSION_DENIED,
  );
  const seed = JSON.stringify({ engine: 'javascript', script: source });
  expect((await failure(client.call('Put', { bucket: '_scripts', key: 's', value: seed }, as('write')))).code).toBe(
    status.PERMISSION_DENIED,
  );
  await client.call('PutScript', { name: 's', engine: 'javascript', source }, as('admin'));
  const run = await client.call<{ result: string }>('Run', { name: 's' }, as('write'));
  expect(JSON.parse(run.result)).toBe(7);
  // Invoker rights: Run needs only read; this script writes nothing, so a reader may run it.
  expect(JSON.parse((await client.call<{ result: string }>('Run', { name: 's' }, as('read'))).result)).toBe(7);
});
