/**
 * The server's invalidation feed on the memory backend: what it tells each
 * host to forget, when it resets a host instead, how it catches up with a
 * lagging stream; then a property test of the whole read-cache protocol in
 * one process (hosts' caches and bridges, run transactions, the feed, plain
 * commits interleaved with runs on several hosts): no run ever reads a value
 * other than its snapshot's, and no commit is let through whose reads changed.
 */
import fc from 'fast-check';
import { CachedBridge } from '../../engines/host/cached-bridge';
import { HostReadCache } from '../../engines/host/read-cache';
import { InvalidationFeed } from '../../src/procedures/invalidation-feed';
import { RunTransaction } from '../../src/procedures/run-transaction';
import type { Backend, Change } from '../../src/storage/backend';
import { BucketSpace } from '../../src/storage/buckets';
import { MemoryBackend } from '../../src/storage/memory';
import { Store } from '../../src/storage/store';

const LIMITS = { maxWrites: 100, maxReadBatch: 100 };
const SYNC_LIMITS = { maxReadBatch: 100, maxBytes: 1 << 20 };
const OPTIONS = { logKeys: 1000, maxChangedPerSync: 100, waitMs: 20 };

async function memory(): Promise<MemoryBackend> {
  const backend = new MemoryBackend();
  await backend.open();
  return backend;
}

const put = (backend: Backend, key: string, value = '{}') => backend.commit([{ type: 'put', key, value }]);

describe('InvalidationFeed', () => {
  it('a new host is reset; later it hears exactly the keys changed since its last run', async () => {
    const backend = await memory();
    const feed = await InvalidationFeed.start(new BucketSpace(backend), OPTIONS);
    const host = {};
    const r1 = (await put(backend, 'b/a')).revision;
    expect(await feed.sync(host, r1, SYNC_LIMITS)).toMatchObject({ revision: r1, reset: true });
    await put(backend, 'b/a');
    await put(backend, 'b/b');
    const r3 = (await put(backend, 'b/a')).revision;
    const sync = await feed.sync(host, r3, SYNC_LIMITS);
    expect(sync.reset).toBe(false);
    expect([...sync.changed].sort()).toEqual(['b/a', 'b/b']);
    expect(await feed.sync(host, r3, SYNC_LIMITS)).toMatchObject({ changed: [], reset: false });
    feed.close();
  });

  it('a host whose revision fell out of the log, or with too many changes to name, is reset', async () => {
    const backend = await memory();
    const feed = await InvalidationFeed.start(new BucketSpace(backend), {
      logKeys: 4,
      maxChangedPerSync: 3,
      waitMs: 20,
    });
    const early = {};
    const late = {};
    const r0 = (await put(backend, 'b/x')).revision;
    await feed.sync(early, r0, SYNC_LIMITS);
    for (let i = 0; i < 6; i++) await put(backend, `b/k${i}`);
    const r6 = await backend.currentRevision();
    await feed.sync(late, r6 - 1, SYNC_LIMITS);
    expect(await feed.sync(early, r6, SYNC_LIMITS)).toMatchObject({ reset: true, changed: [] });
    expect(await feed.sync(late, r6, SYNC_LIMITS)).toMatchObject({ reset: false, changed: ['b/k5'] });
    const r7 = (
      await backend.commit(['p', 'q', 'r', 's'].map((k) => ({ type: 'put' as const, key: `b/${k}`, value: '{}' })))
    ).revision;
    expect(await feed.sync(late, r7, SYNC_LIMITS)).toMatchObject({ reset: true });
    feed.close();
  });

  it('a revision the stream has not delivered is waited for, then read from history', async () => {
    const backend = await memory();
    // A stream that delivers nothing: the feed must catch up from changesSince.
    const silent: Backend = Object.assign(Object.create(backend) as Backend, { subscribe: () => () => undefined });
    const feed = await InvalidationFeed.start(new BucketSpace(silent), OPTIONS);
    const host = {};
    await feed.sync(host, await backend.currentRevision(), SYNC_LIMITS);
    await put(backend, 'b/a');
    const r = (await put(backend, 'b/b')).revision;
    const sync = await feed.sync(host, r, SYNC_LIMITS);
    expect(sync).toMatchObject({ reset: false });
    expect([...sync.changed].sort()).toEqual(['b/a', 'b/b']);
    expect(feed.revision).toBe(r);
    feed.close();
  });

  it('a stream that lost commits resets every host until it says where it resumes', async () => {
    const backend = await memory();
    let loss: ((after?: number) => void) | undefined;
    const lossy: Backend = Object.assign(Object.create(backend) as Backend, {
      subscribe: (listener: (changes: readonly Change[]) => void, onLoss?: (after?: number) => void) => {
        loss = onLoss;
        return backend.subscribe(listener);
      },
    });
    const feed = await InvalidationFeed.start(new BucketSpace(lossy), OPTIONS);
    const host = {};
    const r1 = (await put(backend, 'b/a')).revision;
    await feed.sync(host, r1, SYNC_LIMITS);
    loss?.();
    const r2 = (await put(backend, 'b/b')).revision;
    expect(await feed.sync(host, r2, SYNC_LIMITS)).toMatchObject({ reset: true });
    loss?.(r2);
    const r3 = (await put(backend, 'b/c')).revision;
    expect(await feed.sync(host, r3, SYNC_LIMITS)).toMatchObject({ reset: false, changed: ['b/c'] });
    feed.close();
  });

  it('a revision it can neither be told nor read is a reset, never a partial list', async () => {
    const backend = await memory();
    const blind: Backend = Object.assign(Object.create(backend) as Backend, {
      subscribe: () => () => undefined,
      changesSince: async (): Promise<Change[]> => [],
    });
    const feed = await InvalidationFeed.start(new BucketSpace(blind), OPTIONS);
    const host = {};
    await feed.sync(host, await backend.currentRevision(), SYNC_LIMITS);
    const r = (await put(backend, 'b/a')).revision;
    expect(await feed.sync(host, r, SYNC_LIMITS)).toMatchObject({ reset: true });
    feed.close();
  });
});

// ---- the protocol as a whole, in one process ------------------------------

const KEYS = ['k0', 'k1', 'k2', 'k3'];
const HOSTS = 3;

type Step =
  | { t: 'put'; key: string; del: boolean }
  | { t: 'read'; host: number; keys: string[]; many: boolean }
  | { t: 'write'; host: number; key: string; del: boolean }
  | { t: 'end'; host: number };

const host = fc.nat(HOSTS - 1);
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('put' as const), key: fc.constantFrom(...KEYS), del: fc.boolean() }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('read' as const),
      host,
      keys: fc.subarray(KEYS, { minLength: 1 }),
      many: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('write' as const), host, key: fc.constantFrom(...KEYS), del: fc.boolean() }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('end' as const), host }) },
);

interface Running {
  readonly tx: RunTransaction;
  readonly bridge: CachedBridge;
  readonly revision: number;
  /** What each key read (before the run wrote it) returned. */
  readonly saw: Map<string, string>;
}

test('property: with plain commits between any two steps of runs on several hosts, every read is the snapshot’s and every commit’s reads still hold', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), async (steps) => {
      const backend = await memory();
      const store = new Store(backend, { maxKeyBytes: 1024, maxValueBytes: 1 << 20 });
      const feed = await InvalidationFeed.start(store.space, { logKeys: 6, maxChangedPerSync: 3, waitMs: 5 });
      /** The store's state after each revision, for the expected answers. */
      const states = new Map<number, Map<string, string>>([[0, new Map()]]);
      let current = new Map<string, string>();
      let counter = 0;
      const applied = (revision: number, writes: Iterable<[string, string | null]>) => {
        current = new Map(current);
        for (const [key, value] of writes) {
          if (value === null) current.delete(key);
          else current.set(key, value);
        }
        states.set(revision, current);
      };
      const hosts = Array.from({ length: HOSTS }, () => ({ id: {}, cache: new HostReadCache(600) }));
      const running = new Map<number, Running>();

      const begin = async (h: number): Promise<Running> => {
        const existing = running.get(h);
        if (existing !== undefined) return existing;
        const host = hosts[h] as (typeof hosts)[number];
        const tx = new RunTransaction(store, () => store.space.snapshot(), LIMITS);
        const revision = await tx.open();
        const sync = await feed.sync(host.id, revision, SYNC_LIMITS);
        host.cache.advance(sync.revision, sync.reset ? 'all' : sync.changed);
        const upstream = {
          call: (request: string): string => {
            const reply = tx.handle(request);
            if (reply instanceof Promise) throw new Error('memory reads answer in the same tick');
            return 'value' in reply ? `v${reply.value}` : 'error' in reply ? `e${reply.error}` : `d${reply.denied}`;
          },
        };
        const run: Running = {
          tx,
          bridge: new CachedBridge(host.cache, upstream, SYNC_LIMITS.maxReadBatch),
          revision,
          saw: new Map(),
        };
        running.set(h, run);
        return run;
      };
      const own = new Map<number, Map<string, string | null>>();

      for (const s of [...steps, ...Array.from({ length: HOSTS }, (_, host) => ({ t: 'end' as const, host }))]) {
        if (s.t === 'put') {
          const value = s.del ? null : JSON.stringify({ n: ++counter });
          const { revision } = await backend.commit([
            value === null ? { type: 'delete', key: `b/${s.key}` } : { type: 'put', key: `b/${s.key}`, value },
          ]);
          if (!states.has(revision)) applied(revision, [[`b/${s.key}`, value]]);
          continue;
        }
        if (s.t === 'end') {
          const run = running.get(s.host);
          if (run === undefined) continue;
          running.delete(s.host);
          const writes = own.get(s.host) ?? new Map<string, string | null>();
          own.delete(s.host);
          run.tx.recordCached(run.bridge.readSet());
          // The commit is guarded by every key the run read, wherever the read was answered.
          const guarded = new Set(run.tx.conditions().map((c) => (c.type === 'key' ? `${c.bucket}/${c.key}` : '')));
          for (const key of run.saw.keys()) expect(guarded).toContain(`b/${key}`);
          if (run.tx.readOnly) {
            await run.tx.release();
            continue;
          }
          const before = current;
          try {
            const { revision } = await store.space.commit(run.tx.mutations(), run.tx.conditions());
            // Serializable: nothing the run read changed between its snapshot and its commit.
            for (const [key, seen] of run.saw) expect(before.get(`b/${key}`) ?? 'null').toBe(seen);
            applied(revision, writes);
          } catch (err) {
            expect((err as { code?: string }).code).toBe('CONDITION_FAILED');
          }
          await run.tx.release();
          continue;
        }
        const run = await begin(s.host);
        const writes = own.get(s.host) ?? new Map<string, string | null>();
        own.set(s.host, writes);
        if (s.t === 'write') {
          const value = s.del ? null : JSON.stringify({ n: ++counter, by: s.host });
          const request =
            value === null ? { op: 'delete', bucket: 'b', key: s.key } : { op: 'put', bucket: 'b', key: s.key, value };
          expect(run.bridge.call(JSON.stringify(request))).toBe('vnull');
          writes.set(`b/${s.key}`, value);
          continue;
        }
        const reply = run.bridge.call(
          JSON.stringify(
            s.many ? { op: 'getMany', bucket: 'b', keys: s.keys } : { op: 'get', bucket: 'b', key: s.keys[0] },
          ),
        );
        const keys = s.many ? s.keys : [s.keys[0] as string];
        const snapshot = states.get(run.revision) as Map<string, string>;
        const expected = keys.map((key) => {
          const raw = `b/${key}`;
          if (writes.has(raw)) return writes.get(raw) ?? 'null';
          const value = snapshot.get(raw) ?? 'null';
          if (!run.saw.has(key)) run.saw.set(key, value);
          return value;
        });
        expect(reply).toBe(s.many ? `v[${expected.join(',')}]` : `v${expected[0]}`);
      }
      feed.close();
      await backend.close();
    }),
    { numRuns: 300 },
  );
});
