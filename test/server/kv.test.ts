/**
 * The key-value rpcs of DESIGN §2–3 against a real server process over gRPC
 * (LevelDB in a fresh directory): every rpc, every error path, and nothing
 * half-written when a request is refused.
 */
import { status } from '@grpc/grpc-js';
import { connect, errorCode, failure, type TestClient } from '../helpers/client';
import { type RunningServer, startServer } from '../helpers/server';

let server: RunningServer;
let client: TestClient;

beforeAll(async () => {
  server = await startServer();
  client = connect(server.address);
});

afterAll(async () => {
  client?.close();
  await server?.stop();
  server?.cleanup();
});

type Put = { revision: number };
type Get = { value: string; create_revision: number; mod_revision: number };

const put = (bucket: string, key: string, value: string, extra: object = {}) =>
  client.call<Put>('Put', { bucket, key, value, ...extra });
const get = (bucket: string, key: string) => client.call<Get>('Get', { bucket, key });

async function expectAbsent(bucket: string, key: string): Promise<void> {
  const err = await failure(get(bucket, key));
  expect(err.code).toBe(status.NOT_FOUND);
}

describe('Put and Get', () => {
  test('Put then Get returns the value and its revisions', async () => {
    const { revision } = await put('posts', 'post_1', '{"title":"Some entry"}');
    expect(revision).toBeGreaterThan(0);
    const got = await get('posts', 'post_1');
    expect(JSON.parse(got.value)).toEqual({ title: 'Some entry' });
    expect(got.create_revision).toBe(revision);
    expect(got.mod_revision).toBe(revision);
  });

  test('revisions strictly increase store-wide and create_revision is kept on update', async () => {
    const a = await put('rev', 'a', '{"v":1}');
    const b = await put('rev2', 'b', '{"v":1}');
    const a2 = await put('rev', 'a', '{"v":2}');
    expect(b.revision).toBeGreaterThan(a.revision);
    expect(a2.revision).toBeGreaterThan(b.revision);
    const got = await get('rev', 'a');
    expect(got.create_revision).toBe(a.revision);
    expect(got.mod_revision).toBe(a2.revision);
  });

  test('numbers round-trip exactly: 2^53-1, 2^53+1, negatives, decimals', async () => {
    const text =
      '{"max":9007199254740991,"beyond":9007199254740993,"neg":-42,"small":-9007199254740991,"pi":3.141592653589793,"e":1e-7}';
    await put('nums', 'n', text);
    const got = await get('nums', 'n');
    expect(got.value).toBe(text);
  });

  test('unicode keys and values round-trip', async () => {
    await put('uni', 'clé-😀', '{"text":"héllo wörld 😀"}');
    expect(JSON.parse((await get('uni', 'clé-😀')).value)).toEqual({ text: 'héllo wörld 😀' });
  });

  test('Get of a missing key fails with NOT_FOUND and the NOT_FOUND error code', async () => {
    const err = await failure(get('posts', 'no_such_key'));
    expect(err.code).toBe(status.NOT_FOUND);
    expect(errorCode(err)).toBe('NOT_FOUND');
    expect(err.details).toContain('no_such_key');
  });

  test('Get from the _scripts bucket is allowed (reads only)', async () => {
    const err = await failure(get('_scripts', 'nothing_here'));
    expect(err.code).toBe(status.NOT_FOUND);
  });
});

describe('bad input is INVALID_ARGUMENT and writes nothing', () => {
  const cases: [string, string, string, string][] = [
    ['an array value', 'ok', 'k1', '[1,2,3]'],
    ['a scalar value', 'ok', 'k2', '42'],
    ['a string value', 'ok', 'k3', '"text"'],
    ['null', 'ok', 'k4', 'null'],
    ['invalid JSON', 'ok', 'k5', '{"a":'],
    ['an empty value', 'ok', 'k6', ''],
    ["the seed's single-quoted pseudo-JSON", 'ok', 'k7', "{'a':'value'}"],
    ['an empty key', 'ok', '', '{}'],
    ['an empty bucket name', '', 'k8', '{}'],
    ['a bucket name with a slash', 'a/b', 'k9', '{}'],
    ['a bucket name with a space', 'a b', 'k10', '{}'],
    ['a bucket name of 129 characters', 'b'.repeat(129), 'k11', '{}'],
    ['a reserved bucket', '_system', 'k12', '{}'],
    ['a key over 1024 bytes', 'ok', 'é'.repeat(513), '{}'],
  ];
  test.each(cases)('Put with %s', async (_label, bucket, key, value) => {
    const err = await failure(put(bucket, key, value));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details.length).toBeGreaterThan(10);
    const readable = bucket === 'ok' && key !== '' && Buffer.byteLength(key) <= 1024;
    if (readable) await expectAbsent(bucket, key);
  });

  test('a value over 1 MiB is refused and nothing is written', async () => {
    const big = JSON.stringify({ blob: 'x'.repeat(1024 * 1024) });
    const err = await failure(put('ok', 'big', big));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(errorCode(err)).toBe('INVALID_VALUE');
    await expectAbsent('ok', 'big');
  });

  test('a value of exactly the limit is accepted', async () => {
    const value = JSON.stringify({ blob: 'x'.repeat(1024 * 1024 - 11) });
    expect(Buffer.byteLength(value)).toBe(1024 * 1024);
    await put('ok', 'limit', value);
    expect((await get('ok', 'limit')).value).toBe(value);
  });

  test('a Get with a bad bucket name is INVALID_ARGUMENT', async () => {
    const err = await failure(get('no spaces', 'k'));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(errorCode(err)).toBe('INVALID_BUCKET');
  });
});

describe('compare-and-set', () => {
  test('if_revision 0 writes only if the key is absent', async () => {
    const first = await put('cas', 'absent', '{"n":1}', { if_revision: 0 });
    expect(first.revision).toBeGreaterThan(0);
    const err = await failure(put('cas', 'absent', '{"n":2}', { if_revision: 0 }));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(errorCode(err)).toBe('CONDITION_FAILED');
    expect(JSON.parse((await get('cas', 'absent')).value)).toEqual({ n: 1 });
  });

  test('if_revision n writes when mod_revision matches', async () => {
    const { revision } = await put('cas', 'match', '{"n":1}');
    const second = await put('cas', 'match', '{"n":2}', { if_revision: revision });
    expect(second.revision).toBeGreaterThan(revision);
    expect(JSON.parse((await get('cas', 'match')).value)).toEqual({ n: 2 });
  });

  test('a stale if_revision fails with FAILED_PRECONDITION and writes nothing', async () => {
    const { revision } = await put('cas', 'stale', '{"n":1}');
    await put('cas', 'stale', '{"n":2}');
    const err = await failure(put('cas', 'stale', '{"n":3}', { if_revision: revision }));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(JSON.parse((await get('cas', 'stale')).value)).toEqual({ n: 2 });
  });

  test('if_revision n on a missing key fails', async () => {
    const err = await failure(put('cas', 'never', '{}', { if_revision: 5 }));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    await expectAbsent('cas', 'never');
  });

  test('Delete with a stale if_revision fails and keeps the key', async () => {
    const { revision } = await put('cas', 'del', '{"n":1}');
    await put('cas', 'del', '{"n":2}');
    const err = await failure(client.call('Delete', { bucket: 'cas', key: 'del', if_revision: revision }));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(JSON.parse((await get('cas', 'del')).value)).toEqual({ n: 2 });
  });

  test('Delete with the matching if_revision deletes', async () => {
    const { revision } = await put('cas', 'del2', '{"n":1}');
    const res = await client.call<{ deleted: boolean; revision: number }>('Delete', {
      bucket: 'cas',
      key: 'del2',
      if_revision: revision,
    });
    expect(res.deleted).toBe(true);
    await expectAbsent('cas', 'del2');
  });
});

describe('Delete', () => {
  test('Delete of an existing key reports deleted and a new revision', async () => {
    const { revision } = await put('del', 'k', '{}');
    const res = await client.call<{ deleted: boolean; revision: number }>('Delete', { bucket: 'del', key: 'k' });
    expect(res.deleted).toBe(true);
    expect(res.revision).toBeGreaterThan(revision);
    await expectAbsent('del', 'k');
  });

  test('Delete of a missing key is not an error and reports deleted false', async () => {
    const res = await client.call<{ deleted: boolean; revision: number }>('Delete', { bucket: 'del', key: 'missing' });
    expect(res.deleted).toBe(false);
  });

  test('Delete from a reserved bucket is INVALID_ARGUMENT', async () => {
    const err = await failure(client.call('Delete', { bucket: '_other', key: 'k' }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
  });
});

describe('List', () => {
  type ListRes = { items: { key: string; value: string; mod_revision: number }[]; next_page_token: string };
  const list = (request: object) => client.call<ListRes>('List', request);

  test('250 keys come back in 3 pages of at most 100, in order, with nothing missing or repeated', async () => {
    const keys = Array.from({ length: 250 }, (_, i) => `item-${String(i).padStart(4, '0')}`);
    await client.call('Batch', {
      ops: keys.map((key, i) => ({ put: { bucket: 'paged', key, value: JSON.stringify({ i }) } })),
    });
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = await list({ bucket: 'paged', page_token: token });
      expect(page.items.length).toBeLessThanOrEqual(100);
      seen.push(...page.items.map((i) => i.key));
      token = page.next_page_token;
      pages++;
    } while (token !== '');
    expect(pages).toBe(3);
    expect(seen).toEqual(keys);
  });

  test('keys are ordered bytewise (UTF-8), not by UTF-16 code units', async () => {
    const keys = ['b', 'a', 'A', 'é', '\uFFFD', '😀', 'a0', 'a-'];
    for (const key of keys) await put('order', key, '{}');
    const page = await list({ bucket: 'order' });
    const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(page.items.map((i) => i.key)).toEqual(expected);
  });

  test('prefix, start_after, limit and keys_only', async () => {
    for (const key of ['user:1', 'user:2', 'user:3', 'users', 'post:1'])
      await put('filter', key, `{"k":${JSON.stringify(key)}}`);
    const byPrefix = await list({ bucket: 'filter', prefix: 'user:' });
    expect(byPrefix.items.map((i) => i.key)).toEqual(['user:1', 'user:2', 'user:3']);
    const after = await list({ bucket: 'filter', prefix: 'user:', start_after: 'user:1', limit: 1 });
    expect(after.items.map((i) => i.key)).toEqual(['user:2']);
    expect(after.next_page_token).not.toBe('');
    const keysOnly = await list({ bucket: 'filter', prefix: 'post', keys_only: true });
    expect(keysOnly.items).toEqual([expect.objectContaining({ key: 'post:1', value: '' })]);
  });

  test('a list of an empty bucket is empty with no page token', async () => {
    const page = await list({ bucket: 'nothing-here' });
    expect(page.items).toEqual([]);
    expect(page.next_page_token).toBe('');
  });

  test('limit above 1000 is INVALID_ARGUMENT', async () => {
    const err = await failure(list({ bucket: 'paged', limit: 1001 }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
  });

  test('a mangled or foreign page token is INVALID_ARGUMENT', async () => {
    expect((await failure(list({ bucket: 'paged', page_token: 'garbage!' }))).code).toBe(status.INVALID_ARGUMENT);
    const page = await list({ bucket: 'paged', limit: 1 });
    const err = await failure(list({ bucket: 'filter', page_token: page.next_page_token }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
  });
});

describe('BatchGet and Batch', () => {
  test('BatchGet returns one entry per key, found or not, in order', async () => {
    await put('bg', 'a', '{"a":1}');
    await put('bg2', 'b', '{"b":2}');
    const res = await client.call<{
      entries: { bucket: string; key: string; found: boolean; value: string; mod_revision: number }[];
    }>('BatchGet', {
      keys: [
        { bucket: 'bg', key: 'a' },
        { bucket: 'bg', key: 'missing' },
        { bucket: 'bg2', key: 'b' },
      ],
    });
    expect(res.entries.map((e) => [e.bucket, e.key, e.found])).toEqual([
      ['bg', 'a', true],
      ['bg', 'missing', false],
      ['bg2', 'b', true],
    ]);
    expect(JSON.parse(res.entries[2]?.value ?? '')).toEqual({ b: 2 });
    expect(res.entries[0]?.mod_revision).toBeGreaterThan(0);
  });

  test('BatchGet with a bad bucket name is INVALID_ARGUMENT', async () => {
    const err = await failure(client.call('BatchGet', { keys: [{ bucket: 'bad name', key: 'a' }] }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
  });

  test('Batch applies puts and deletes atomically under one revision', async () => {
    await put('batch', 'gone', '{}');
    const res = await client.call<{ revision: number }>('Batch', {
      ops: [
        { put: { bucket: 'batch', key: 'x', value: '{"x":1}' } },
        { put: { bucket: 'batch2', key: 'y', value: '{"y":1}' } },
        { delete: { bucket: 'batch', key: 'gone' } },
      ],
    });
    expect((await get('batch', 'x')).mod_revision).toBe(res.revision);
    expect((await get('batch2', 'y')).mod_revision).toBe(res.revision);
    await expectAbsent('batch', 'gone');
  });

  test('a Batch with one failing condition writes nothing at all', async () => {
    const { revision } = await put('batch', 'guard', '{"v":1}');
    await put('batch', 'guard', '{"v":2}');
    const err = await failure(
      client.call('Batch', {
        ops: [
          { put: { bucket: 'batch', key: 'p1', value: '{}' } },
          { delete: { bucket: 'batch', key: 'x' } },
          { put: { bucket: 'batch', key: 'guard', value: '{"v":3}', if_revision: revision } },
        ],
      }),
    );
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    await expectAbsent('batch', 'p1');
    expect(JSON.parse((await get('batch', 'x')).value)).toEqual({ x: 1 });
    expect(JSON.parse((await get('batch', 'guard')).value)).toEqual({ v: 2 });
  });

  test('a Batch with one invalid value writes nothing at all', async () => {
    const err = await failure(
      client.call('Batch', {
        ops: [
          { put: { bucket: 'batch', key: 'p2', value: '{}' } },
          { put: { bucket: 'batch', key: 'p3', value: '[]' } },
        ],
      }),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    await expectAbsent('batch', 'p2');
  });

  test('an empty Batch, an op with neither put nor delete, and a repeated key are INVALID_ARGUMENT', async () => {
    expect((await failure(client.call('Batch', { ops: [] }))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(client.call('Batch', { ops: [{}] }))).code).toBe(status.INVALID_ARGUMENT);
    const twice = await failure(
      client.call('Batch', {
        ops: [{ put: { bucket: 'batch', key: 'dup', value: '{}' } }, { delete: { bucket: 'batch', key: 'dup' } }],
      }),
    );
    expect(twice.code).toBe(status.INVALID_ARGUMENT);
    await expectAbsent('batch', 'dup');
  });
});

describe('ListBuckets', () => {
  test('lists every bucket that holds a key, once, in order', async () => {
    for (const bucket of ['lb-a', 'lb-a.b', 'lb-a_b', 'lb-ab', 'lb-a-b']) {
      await put(bucket, 'k1', '{}');
      await put(bucket, 'k2', '{}');
    }
    const { buckets } = await client.call<{ buckets: string[] }>('ListBuckets', {});
    const ours = buckets.filter((b) => b.startsWith('lb-'));
    expect(ours).toEqual(
      ['lb-a', 'lb-a-b', 'lb-a.b', 'lb-a_b', 'lb-ab'].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
    );
    expect(new Set(buckets).size).toBe(buckets.length);
  });
});
