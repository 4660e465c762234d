/**
 * The server's side of the engine hosts' read caches, in one transaction:
 * the 'read' call (revisions with verbatim values), and the read set a host
 * reports on `done`, which guards the commit like bridge reads and is checked
 * because an escaped script can forge it.
 */
import { parseRead } from '../../engines/host/read-answer';
import { RunTransaction } from '../../src/procedures/run-transaction';
import { MemoryBackend } from '../../src/storage/memory';
import { Store } from '../../src/storage/store';

const LIMITS = { maxWrites: 10, maxReadBatch: 3 };

async function setup() {
  const backend = new MemoryBackend();
  await backend.open();
  const store = new Store(backend, { maxKeyBytes: 64, maxValueBytes: 1024 });
  const big = '{"n":123456789012345678901234567890,"s":"é"}';
  const revision = await store.put('posts', 'p1', big);
  const tx = new RunTransaction(store, () => store.space.snapshot(), LIMITS);
  return { store, tx, big, revision };
}

const value = async (reply: ReturnType<RunTransaction['handle']>) => {
  const r = await reply;
  if (!('value' in r)) throw new Error(`expected a value, got ${JSON.stringify(r)}`);
  return r.value;
};

describe("the 'read' bridge call", () => {
  it('answers each key with its mod revision and its JSON text verbatim; absent keys are revision 0 and null', async () => {
    const { tx, big, revision } = await setup();
    const text = await value(tx.handle(JSON.stringify({ op: 'read', bucket: 'posts', keys: ['p1', 'nope'] })));
    expect(parseRead(`v${text}`, 2)).toEqual([
      [revision, big],
      [0, 'null'],
    ]);
    // Recorded like any read: both keys guard the commit.
    expect(tx.conditions()).toEqual([
      { type: 'key', bucket: 'posts', key: 'p1', modRevision: revision },
      { type: 'key', bucket: 'posts', key: 'nope', modRevision: 0 },
    ]);
  });

  it("marks the run's own writes with revision -1, so a host never caches them", async () => {
    const { tx } = await setup();
    await tx.handle(JSON.stringify({ op: 'put', bucket: 'posts', key: 'p2', value: '{"mine":1}' }));
    const text = await value(tx.handle(JSON.stringify({ op: 'read', bucket: 'posts', keys: ['p2'] })));
    expect(parseRead(`v${text}`, 1)).toEqual([[-1, '{"mine":1}']]);
  });

  it('refuses what get and getMany refuse: bad buckets, bad keys, oversized batches', async () => {
    const { tx } = await setup();
    const error = async (call: object) => {
      const r = await tx.handle(JSON.stringify(call));
      return 'error' in r ? r.error : undefined;
    };
    expect(await error({ op: 'read', bucket: '../x', keys: ['a'] })).toMatch(/invalid bucket name/);
    expect(await error({ op: 'read', bucket: 'posts', keys: [''] })).toMatch(/empty/);
    expect(await error({ op: 'read', bucket: 'posts', keys: ['a', 'b', 'c', 'd'] })).toMatch(/at most 3/);
    expect(await error({ op: 'read', bucket: 'posts', keys: 'a' })).toMatch(/list of keys/);
  });
});

describe('the read set a host reports', () => {
  it("guards the commit like the bridge's own reads, keeping the first revision seen for a key", async () => {
    const { tx, revision } = await setup();
    const snapshotRevision = await tx.open();
    expect(snapshotRevision).toBe(revision);
    await tx.handle(JSON.stringify({ op: 'put', bucket: 'posts', key: 'p1', value: '{}' }));
    tx.recordCached({
      keys: [
        ['posts/p1', revision],
        ['users/u1', 0],
      ],
      prefixes: ['posts/c'],
      calls: { get: 2, getMany: 0, list: 1 },
    });
    expect(tx.conditions()).toEqual([
      { type: 'key', bucket: 'posts', key: 'p1', modRevision: revision },
      { type: 'key', bucket: 'users', key: 'u1', modRevision: 0 },
      { type: 'prefix', bucket: 'posts', prefix: 'c', revision },
    ]);
  });

  it('a commit guarded by a cached read fails once that key changed', async () => {
    const { store, tx, revision } = await setup();
    await tx.open();
    tx.recordCached({ keys: [['posts/p1', revision]], prefixes: [], calls: { get: 1, getMany: 0, list: 0 } });
    await tx.handle(JSON.stringify({ op: 'put', bucket: 'posts', key: 'p9', value: '{}' }));
    await store.put('posts', 'p1', '{"changed":true}');
    await expect(store.space.commit(tx.mutations(), tx.conditions())).rejects.toMatchObject({
      code: 'CONDITION_FAILED',
    });
  });

  it.each([
    ['not an object', 'nonsense'],
    ['no prefixes', { keys: [], calls: { get: 0, getMany: 0, list: 0 } }],
    ['no call counts', { keys: [], prefixes: [] }],
    ['a negative call count', { keys: [], prefixes: [], calls: { get: -1, getMany: 0, list: 0 } }],
    ['a key outside any bucket', { keys: [['nobucket', 0]], prefixes: [], calls: { get: 0, getMany: 0, list: 0 } }],
    [
      'a key in a bucket with a bad name',
      { keys: [['b$d/x', 0]], prefixes: [], calls: { get: 0, getMany: 0, list: 0 } },
    ],
    [
      'a revision after the snapshot',
      { keys: [['posts/p1', 1e6]], prefixes: [], calls: { get: 0, getMany: 0, list: 0 } },
    ],
    ['a negative revision', { keys: [['posts/p1', -1]], prefixes: [], calls: { get: 0, getMany: 0, list: 0 } }],
    ['a fractional revision', { keys: [['posts/p1', 0.5]], prefixes: [], calls: { get: 0, getMany: 0, list: 0 } }],
    ['a prefix that is not a string', { keys: [], prefixes: [7], calls: { get: 0, getMany: 0, list: 0 } }],
  ])('a forged read set (%s) fails the run as the host breaking the protocol', async (_what, forged) => {
    const { tx } = await setup();
    await tx.open();
    expect(() => tx.recordCached(forged)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});
