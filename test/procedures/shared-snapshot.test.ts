/**
 * SharedSnapshots: runs that start between two commits share one snapshot;
 * a run that starts after a commit was acknowledged always sees it; an old
 * snapshot is released once its last lease is returned (never before); a
 * remote backend never shares.
 */
import { SharedSnapshots } from '../../src/procedures/shared-snapshot';
import type { BucketSnapshot, BucketSpace } from '../../src/storage/buckets';
import { MemoryBackend } from '../../src/storage/memory';
import { Store } from '../../src/storage/store';

async function open(): Promise<Store> {
  const backend = new MemoryBackend();
  await backend.open();
  const store = new Store(backend, { maxKeyBytes: 1024, maxValueBytes: 1024 });
  await store.put('b', 'k', '{"v":0}');
  return store;
}

/** The space, counting the snapshots it opens and releases. */
function counted(space: BucketSpace, remote = false): { space: BucketSpace; opened: number; released: number } {
  const counts = { opened: 0, released: 0 };
  const wrapped = Object.create(space) as BucketSpace;
  Object.defineProperty(wrapped, 'supports', { get: () => ({ ...space.supports, remote }) });
  wrapped.snapshot = async (): Promise<BucketSnapshot> => {
    counts.opened++;
    const snap = await space.snapshot();
    return {
      ...snap,
      release: async () => {
        counts.released++;
        await snap.release();
      },
    };
  };
  return Object.assign(counts, { space: wrapped });
}

const valueOf = async (snap: BucketSnapshot): Promise<string | undefined> => (await snap.getMany('b', ['k']))[0]?.value;

test('runs between two commits share one snapshot; a commit retires it, released with its last lease', async () => {
  const store = await open();
  const c = counted(store.space);
  const shared = new SharedSnapshots(c.space);
  const [a, b] = await Promise.all([shared.lease(), shared.lease()]);
  const c1 = await shared.lease();
  expect(c.opened).toBe(1);
  expect(a.revision).toBe(b.revision);
  expect(c1.revision).toBe(a.revision);

  await store.put('b', 'k', '{"v":1}');
  // Acknowledged: every run from now on sees it.
  const after = await shared.lease();
  expect(after.revision).toBe(a.revision + 1);
  expect(await valueOf(after)).toBe('{"v":1}');
  expect(c.opened).toBe(2);
  // The old one still answers its leases, as of its revision...
  await a.release();
  await a.release();
  await b.release();
  expect(c.released).toBe(0);
  expect(await valueOf(c1)).toBe('{"v":0}');
  // ...and goes with the last one.
  await c1.release();
  expect(c.released).toBe(1);
  // The current one stays open for the next run, then goes at the next commit.
  await after.release();
  expect(c.released).toBe(1);
  await store.put('b', 'k', '{"v":2}');
  await new Promise((resolve) => setImmediate(resolve));
  expect(c.released).toBe(2);
  shared.close();
});

test('a run that starts while a snapshot is being opened after a commit shares it; none of one before it', async () => {
  const store = await open();
  const c = counted(store.space);
  const shared = new SharedSnapshots(c.space);
  const first = await shared.lease();
  await store.put('b', 'k', '{"v":1}');
  const [x, y] = await Promise.all([shared.lease(), shared.lease()]);
  expect(c.opened).toBe(2);
  expect(x.revision).toBe(first.revision + 1);
  expect(y.revision).toBe(x.revision);
  shared.close();
  // Closed: no more sharing; the current one goes with its last lease.
  const own = await shared.lease();
  expect(c.opened).toBe(3);
  await Promise.all([first.release(), x.release(), y.release(), own.release()]);
  expect(c.released).toBe(3);
});

test('on a remote backend every run opens its own snapshot', async () => {
  const store = await open();
  const c = counted(store.space, true);
  const shared = new SharedSnapshots(c.space);
  const a = await shared.lease();
  const b = await shared.lease();
  expect(c.opened).toBe(2);
  await a.release();
  await b.release();
  expect(c.released).toBe(2);
  shared.close();
});
