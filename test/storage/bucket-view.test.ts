/**
 * Runs the whole storage conformance suite a second time through a bucket:
 * BucketView over the BucketSpace that the store, the script transaction
 * and Watch use, over memory and over LevelDB, with foreign raw keys around
 * the bucket's prefix that the view must never show. Then the space itself:
 * keys and guards land under the bucket's prefix, a failed guard names its
 * bucket and key, history pages move past other buckets, and the bucket list.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Backend, Change } from '../../src/storage/backend';
import { BucketView } from '../../src/storage/bucket-view';
import { BucketSpace } from '../../src/storage/buckets';
import { LevelDbBackend } from '../../src/storage/leveldb';
import { MemoryBackend } from '../../src/storage/memory';
import { type FactoryOptions, type Harness, readAll, rejection, storageSuite } from '../conformance/storage';

const BUCKET = 'view';
/** Neighbours of the bucket's prefix 'view/' on both sides, bytewise, keys that merely start alike, and keys of no bucket. */
const FOREIGN = [
  'view',
  'view.',
  'view0',
  'vie',
  'viewx/a',
  'view./a',
  'view0/a',
  'a',
  'k',
  'p/b',
  '\uffff',
  '\u{1F600}',
  'view\u{1F600}',
];

async function harness(inner: Backend, cleanup: () => Promise<void>): Promise<Harness> {
  await inner.open();
  await inner.commit(FOREIGN.map((key) => ({ type: 'put', key, value: '{"foreign":true}' })));
  let n = 0;
  return {
    backend: new BucketView(new BucketSpace(inner), BUCKET),
    interfere: async () => {
      n++;
      await inner.commit([
        { type: 'put', key: `view0/${n}`, value: '{}' },
        { type: 'put', key: `a${n}`, value: '{}' },
        { type: 'delete', key: 'view.' },
      ]);
    },
    cleanup: async () => {
      // The view must not have touched a single foreign key.
      const foreign = (await readAll(inner)).filter((kv) => !kv.key.startsWith(`${BUCKET}/`));
      expect(foreign.filter((kv) => FOREIGN.includes(kv.key)).every((kv) => kv.value === '{"foreign":true}')).toBe(
        true,
      );
      await inner.close();
      await cleanup();
    },
  };
}

storageSuite({
  name: 'bucket view over memory',
  supports: new MemoryBackend().supports,
  factory: async (options?: FactoryOptions) => harness(new MemoryBackend(options), async () => undefined),
});

storageSuite({
  name: 'bucket view over leveldb',
  supports: new LevelDbBackend({ location: join(tmpdir(), 'unused') }).supports,
  factory: async (options?: FactoryOptions) => {
    const location = await mkdtemp(join(tmpdir(), 'lucien-bucket-view-'));
    return harness(new LevelDbBackend({ location, ...options }), () => rm(location, { recursive: true, force: true }));
  },
});

async function openSpace(): Promise<{ backend: MemoryBackend; space: BucketSpace }> {
  const backend = new MemoryBackend();
  await backend.open();
  return { backend, space: new BucketSpace(backend) };
}

describe('bucket space', () => {
  it('a key of a bucket is the raw key bucket/key, and reads give back the bucket’s key', async () => {
    const { backend, space } = await openSpace();
    const { revision } = await space.commit([{ type: 'put', bucket: 'posts', key: 'a/b', value: '{}' }]);
    expect((await readAll(backend)).map((kv) => kv.key)).toEqual(['posts/a/b']);
    expect(await space.get('posts', 'a/b')).toEqual({
      key: 'a/b',
      value: '{}',
      createRevision: revision,
      modRevision: revision,
    });
    const snapshot = await space.snapshot();
    expect(await snapshot.scan('posts', 'a', { limit: 10 })).toEqual([
      { key: 'a/b', value: '{}', createRevision: revision, modRevision: revision },
    ]);
    expect(snapshot.getManySync('posts', ['a/b', 'c']).map((kv) => kv?.key)).toEqual(['a/b', undefined]);
    await snapshot.release();
  });

  it('a failed guard names the bucket and key it failed on, and prefix guards stay inside their bucket', async () => {
    const { space } = await openSpace();
    const r1 = (await space.commit([{ type: 'put', bucket: 'users', key: 'u1', value: '{}' }])).revision;
    const stale = await rejection(
      space.commit(
        [{ type: 'put', bucket: 'x', key: 'k', value: '{}' }],
        [{ type: 'key', bucket: 'users', key: 'u1', modRevision: 0 }],
      ),
    );
    expect(stale).toMatchObject({ code: 'CONDITION_FAILED', details: { bucket: 'users', key: 'u1' } });
    // A change in bucket 'users.' or under 'usersX/' is not under users/u.
    await space.commit([
      { type: 'put', bucket: 'users.', key: 'u2', value: '{}' },
      { type: 'put', bucket: 'usersu', key: 'u', value: '{}' },
    ]);
    await space.commit(
      [{ type: 'put', bucket: 'x', key: 'k', value: '{}' }],
      [{ type: 'prefix', bucket: 'users', prefix: 'u', revision: r1 }],
    );
    await space.commit([{ type: 'put', bucket: 'users', key: 'u2', value: '{}' }]);
    const changed = await rejection(space.commit([], [{ type: 'prefix', bucket: 'users', prefix: 'u', revision: r1 }]));
    expect(changed).toMatchObject({ code: 'CONDITION_FAILED', details: { bucket: 'users', key: 'u2' } });
  });

  it('a history page keeps one bucket under one prefix, and its cursor moves past other buckets', async () => {
    const { space } = await openSpace();
    const r0 = await space.currentRevision();
    await space.commit([
      { type: 'put', bucket: 'b', key: 'p1', value: '{}' },
      { type: 'put', bucket: 'b', key: 'q1', value: '{}' },
    ]);
    const other = (await space.commit([{ type: 'put', bucket: 'c', key: 'p1', value: '{}' }])).revision;
    const page = await space.changesSince('b', 'p', r0, 100);
    expect(page.changes.map((c) => c.key)).toEqual(['p1']);
    expect(page.through).toBe(other);
    expect(await space.changesSince('b', 'p', other, 100)).toEqual({ changes: [], through: other });
  });

  it('subscribe hears only its bucket, with the bucket’s keys; onCommit hears every commit', async () => {
    const { space } = await openSpace();
    const heard: Change[][] = [];
    let commits = 0;
    const unsubscribe = space.subscribe('b', (changes) => heard.push([...changes]));
    const stop = space.onCommit(() => commits++);
    await space.commit([{ type: 'put', bucket: 'bb', key: 'k', value: '{}' }]);
    const { revision } = await space.commit([
      { type: 'put', bucket: 'b', key: 'k', value: '{}' },
      { type: 'put', bucket: 'a', key: 'k', value: '{}' },
    ]);
    expect(heard).toEqual([[{ type: 'put', key: 'k', value: '{}', revision }]]);
    expect(commits).toBe(2);
    unsubscribe();
    stop();
  });

  it('listBuckets finds each bucket once, in bytewise order, with one scan per bucket', async () => {
    const { backend } = await openSpace();
    const buckets = ['a', 'a-b', 'a.b', 'a_b', 'ab', 'a0', '_scripts', 'Z'];
    const keys = buckets.flatMap((b) => ['', 'x', 'x/y', '\u{1F600}', '0'].map((k) => `${b}/${k}`));
    await backend.commit([...keys, 'nobucket', '/nobucket'].map((key) => ({ type: 'put', key, value: '{}' })));
    let scans = 0;
    const counting: Backend = Object.create(backend, {
      snapshot: {
        value: async () => {
          const snapshot = await backend.snapshot();
          return {
            ...snapshot,
            scan: (...args: Parameters<typeof snapshot.scan>) => (scans++, snapshot.scan(...args)),
          };
        },
      },
    });
    const expected = [...buckets].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(await new BucketSpace(counting).listBuckets()).toEqual(expected);
    expect(scans).toBe(buckets.length + 3);
  });

  it('listBuckets of an empty store is empty', async () => {
    const { space } = await openSpace();
    expect(await space.listBuckets()).toEqual([]);
  });

  it('a view never shows, returns or touches a key outside its bucket (property)', async () => {
    const key = fc.string({
      unit: fc.constantFrom('a', 'b', '/', '.', '0', '\u00e9', '\u{1F600}'),
      minLength: 1,
      maxLength: 4,
    });
    const bucket = fc.constantFrom('v', 'v.', 'v0', 'vv', 'w');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ bucket, key, del: fc.boolean() }), { maxLength: 25 }),
        fc.array(key, { maxLength: 10 }),
        async (ops, raws) => {
          const { backend, space } = await openSpace();
          const view = new BucketView(space, 'v');
          const r0 = await backend.currentRevision();
          const seen: Change[] = [];
          view.subscribe((changes) => seen.push(...changes));
          const model = new Map<string, string>();
          for (const raw of raws) {
            await backend.commit([{ type: 'put', key: raw, value: '{"raw":true}' }]);
            if (raw.startsWith('v/')) model.set(raw.slice(2), '{"raw":true}');
          }
          for (const [i, op] of ops.entries()) {
            await space.commit([
              op.del
                ? { type: 'delete', bucket: op.bucket, key: op.key }
                : { type: 'put', bucket: op.bucket, key: op.key, value: `{"i":${i}}` },
            ]);
            if (op.bucket !== 'v') continue;
            if (op.del) model.delete(op.key);
            else model.set(op.key, `{"i":${i}}`);
          }
          const rows = await readAll(view);
          expect(new Map(rows.map((kv) => [kv.key, kv.value]))).toEqual(model);
          const history = await view.changesSince(r0, 10000);
          expect(history).toEqual(seen);
          for (const change of history)
            expect(
              ops.some((op) => op.bucket === 'v' && op.key === change.key) || raws.includes(`v/${change.key}`),
            ).toBe(true);
          await view.close();
          await backend.close();
        },
      ),
      { numRuns: 60 },
    );
  });
});
