/**
 * Invoker rights: tokens may be scoped to bucket patterns, and a Run executes
 * with its caller's rights. A bridge call outside them raises PermissionDenied
 * in the script (which may catch it); uncaught, the run fails with
 * PERMISSION_DENIED and commits nothing. A read-role caller may run a script
 * that only reads, and fails at its first write. The same scopes hold for
 * the key-value rpcs, Watch and ListBuckets.
 */
import { Metadata, status } from '@grpc/grpc-js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, errorCode, failure, type TestClient } from '../helpers/client';
import { type RunningServer, startServer } from '../helpers/server';

const TOKENS = {
  admin: { token: 'admin-token-0123456789abcdef', role: 'admin' },
  scoped: { token: 'scoped-token-0123456789abcdef', role: 'write', buckets: ['posts', 'comments*'] },
  reader: { token: 'reader-token-0123456789abcdef', role: 'read' },
} as const;
let server: RunningServer;
let client: TestClient;
let dir: string;

const as = (who: keyof typeof TOKENS): Metadata => {
  const md = new Metadata();
  md.set('authorization', `Bearer ${TOKENS[who].token}`);
  return md;
};

const SCRIPTS = {
  javascript: {
    // Reads posts, then writes a post and a secret: the secret write is outside the scoped token's rights.
    copy: "const p = buckets.getBucket('posts').get('p1'); buckets.getBucket('posts').put('p2', p); buckets.getBucket('secrets').put('s', p); result = 'wrote'",
    caught:
      "let seen = null; try { buckets.getBucket('secrets').get('s'); } catch (e) { seen = e.name; } buckets.getBucket('comments_1').put('c', {ok: true}); result = seen",
    reads: "result = buckets.getBucket('posts').get('p1')",
    writes: "const p = buckets.getBucket('posts').get('p1'); buckets.getBucket('posts').put('p3', p); result = 'wrote'",
  },
  python: {
    copy: "p = buckets.getBucket('posts').get('p1')\nbuckets.getBucket('posts').put('p2', p)\nbuckets.getBucket('secrets').put('s', p)\nresult = 'wrote'",
    caught:
      "seen = None\ntry:\n    buckets.getBucket('secrets').get('s')\nexcept PermissionDenied as e:\n    seen = type(e).__name__\nbuckets.getBucket('comments_1').put('c', {'ok': True})\nresult = seen",
    reads: "result = buckets.getBucket('posts').get('p1')",
    writes: "p = buckets.getBucket('posts').get('p1')\nbuckets.getBucket('posts').put('p3', p)\nresult = 'wrote'",
  },
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lucien-rights-'));
  const file = join(dir, 'auth.json');
  writeFileSync(file, JSON.stringify({ tokens: Object.entries(TOKENS).map(([name, t]) => ({ name, ...t })) }));
  server = await startServer({ args: ['--backend', 'memory', '--auth-file', file] });
  client = connect(server.address);
  await client.call('Put', { bucket: 'posts', key: 'p1', value: '{"title":"hello"}' }, as('admin'));
  await client.call('Put', { bucket: 'secrets', key: 's', value: '{"x":1}' }, as('admin'));
  for (const [engine, scripts] of Object.entries(SCRIPTS)) {
    for (const [name, source] of Object.entries(scripts))
      await client.call('PutScript', { name: `${engine}_${name}`, engine, source }, as('admin'));
  }
});

afterAll(async () => {
  client?.close();
  await server?.stop();
  server?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const absent = async (bucket: string, key: string): Promise<boolean> =>
  client.call('Get', { bucket, key }, as('admin')).then(
    () => false,
    (err: { code: number }) => err.code === status.NOT_FOUND,
  );

describe.each(['javascript', 'python'])('%s', (engine) => {
  test('a bridge call outside the caller’s scope, uncaught, fails the run with PERMISSION_DENIED and commits nothing', async () => {
    await client.call('Delete', { bucket: 'posts', key: 'p2' }, as('admin'));
    const err = await failure(client.call('Run', { name: `${engine}_copy` }, as('scoped')));
    expect(err.code).toBe(status.PERMISSION_DENIED);
    expect(errorCode(err)).toBe('PERMISSION_DENIED');
    expect(err.details).toMatch(/PermissionDenied.*"scoped" may not write bucket "secrets"/);
    expect(await absent('posts', 'p2')).toBe(true);
    // The same script, run by a caller with the rights, commits both writes.
    expect(
      JSON.parse((await client.call<{ result: string }>('Run', { name: `${engine}_copy` }, as('admin'))).result),
    ).toBe('wrote');
    expect(await absent('posts', 'p2')).toBe(false);
  });

  test('a script may catch PermissionDenied and carry on within the caller’s rights', async () => {
    await client.call('Delete', { bucket: 'comments_1', key: 'c' }, as('admin'));
    const out = await client.call<{ result: string }>('Run', { name: `${engine}_caught` }, as('scoped'));
    expect(JSON.parse(out.result)).toBe('PermissionDenied');
    expect(await absent('comments_1', 'c')).toBe(false);
  });

  test('a read-role caller may run a script that only reads; one that writes fails PERMISSION_DENIED at its first write', async () => {
    expect(
      JSON.parse((await client.call<{ result: string }>('Run', { name: `${engine}_reads` }, as('reader'))).result),
    ).toEqual({ title: 'hello' });
    const err = await failure(client.call('Run', { name: `${engine}_writes` }, as('reader')));
    expect(err.code).toBe(status.PERMISSION_DENIED);
    expect(err.details).toMatch(/role "read" and may not write bucket "posts"/);
    expect(await absent('posts', 'p3')).toBe(true);
  });
});

test('bucket scopes hold for the key-value rpcs, Watch and ListBuckets too', async () => {
  await client.call('Put', { bucket: 'comments_9', key: 'k', value: '{}' }, as('scoped'));
  for (const [method, request] of [
    ['Get', { bucket: 'secrets', key: 's' }],
    ['Put', { bucket: 'secrets', key: 's', value: '{}' }],
    ['List', { bucket: 'secrets' }],
    [
      'BatchGet',
      {
        keys: [
          { bucket: 'posts', key: 'p1' },
          { bucket: 'secrets', key: 's' },
        ],
      },
    ],
    [
      'Batch',
      { ops: [{ put: { bucket: 'posts', key: 'x', value: '{}' } }, { delete: { bucket: 'secrets', key: 's' } }] },
    ],
  ] as const) {
    expect({ method, code: (await failure(client.call(method, request, as('scoped')))).code }).toEqual({
      method,
      code: status.PERMISSION_DENIED,
    });
  }
  expect(await absent('posts', 'x')).toBe(true);
  const { buckets } = await client.call<{ buckets: string[] }>('ListBuckets', {}, as('scoped'));
  expect(buckets).not.toContain('secrets');
  expect(buckets).toContain('posts');
  const watchError = await new Promise<{ code: number }>((resolve) => {
    const stream = client.raw.Watch({ bucket: 'secrets', prefix: '' }, as('scoped'));
    stream.on('error', (err: { code: number }) => resolve(err));
    stream.on('data', () => undefined);
  });
  expect(watchError.code).toBe(status.PERMISSION_DENIED);
});
