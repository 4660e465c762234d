/**
 * The LevelDB backend's cache of scan results (range-cache.ts) on a real
 * LevelDB: a scan after a commit into its range reads the commit; a scan
 * that read while a commit into its range was written does not fill; a
 * batch write that fails after LevelDB applied it leaves no cached range
 * stale; and the ranges stay within their share of the byte budget.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyValue } from '../../src/storage/backend';
import { LevelDbBackend } from '../../src/storage/leveldb';
import type { RangeCache } from '../../src/storage/range-cache';

interface Iter {
  nextv(n: number): Promise<unknown[]>;
}
interface Internals {
  db: {
    iterator(options: unknown): Iter;
    batch(): { write(options?: unknown): Promise<void> };
  };
  ranges: RangeCache;
}

const keysOf = (rows: readonly KeyValue[]): string[] => rows.map((r) => `${r.key}=${r.value}@${r.modRevision}`);

let location: string;
let backend: LevelDbBackend;
let internals: Internals;

async function openBackend(cacheBytes?: number): Promise<void> {
  location = await mkdtemp(join(tmpdir(), 'lucien-ranges-'));
  backend = new LevelDbBackend({ location, cacheBytes });
  await backend.open();
  internals = backend as unknown as Internals;
}

afterEach(async () => {
  await backend.close();
  await rm(location, { recursive: true, force: true });
});

test('a scan right after a commit into its range reads the commit, at every edge of the range', async () => {
  await openBackend();
  await backend.commit([
    { type: 'put', key: 'a/1', value: '1' },
    { type: 'put', key: 'a/5', value: '5' },
  ]);
  const scan = () => backend.scan('a/', { limit: 10 });
  const scanCut = () => backend.scan('a/', { limit: 1 });
  const scanAfter = () => backend.scan('a/', { limit: 10, after: 'a/1' });
  const writes: [string, string | undefined][] = [
    ['a/', 'prefix itself'],
    ['a/1', 'first row'],
    ['a/3', 'between rows'],
    ['a/5', undefined],
    ['a/\u{10ffff}', 'last possible key'],
    ['a/1', undefined],
    ['a0', 'just past the prefix'],
  ];
  for (const [key, value] of writes) {
    // Fill every range twice over (the second read is a hit), then write.
    for (const read of [scan, scanCut, scanAfter]) {
      await read();
      await read();
    }
    await backend.commit([
      value === undefined ? { type: 'delete', key } : { type: 'put', key, value: JSON.stringify(value) },
    ]);
    const snapshot = await backend.snapshot();
    try {
      expect(keysOf(await scan())).toEqual(keysOf(await snapshot.scan('a/', { limit: 10 })));
      expect(keysOf(await scanCut())).toEqual(keysOf(await snapshot.scan('a/', { limit: 1 })));
      expect(keysOf(await scanAfter())).toEqual(keysOf(await snapshot.scan('a/', { limit: 10, after: 'a/1' })));
    } finally {
      await snapshot.release();
    }
  }
  expect(internals.ranges.size).toBeGreaterThan(0);
});

test('a scan that read while a commit into its range was written does not fill the cache with what it read', async () => {
  await openBackend();
  await backend.commit([{ type: 'put', key: 'a/1', value: '"old"' }]);
  // Hold the scan after LevelDB answered it (the old value), until the commit is durable.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let answered!: () => void;
  const read = new Promise<void>((resolve) => (answered = resolve));
  const iterator = internals.db.iterator.bind(internals.db);
  internals.db.iterator = (options) => {
    const it = iterator(options);
    const nextv = it.nextv.bind(it);
    it.nextv = async (n) => {
      const rows = await nextv(n);
      answered();
      await gate;
      return rows;
    };
    return it;
  };
  const racing = backend.scan('a/', { limit: 10 });
  await read;
  await backend.commit([{ type: 'put', key: 'a/1', value: '"new"' }]);
  release();
  expect((await racing).map((r) => r.value)).toEqual(['"old"']);
  internals.db.iterator = iterator;
  expect((await backend.scan('a/', { limit: 10 })).map((r) => r.value)).toEqual(['"new"']);
});

test('a batch write that fails after LevelDB applied it leaves no cached range stale', async () => {
  await openBackend();
  await backend.commit([{ type: 'put', key: 'a/1', value: '"before"' }]);
  await backend.scan('a/', { limit: 10 });
  expect((await backend.scan('a/', { limit: 10 })).map((r) => r.value)).toEqual(['"before"']);
  const batch = internals.db.batch.bind(internals.db);
  internals.db.batch = () => {
    const ops = batch();
    const write = ops.write.bind(ops);
    ops.write = async (options) => {
      await write(options);
      throw new Error('injected failure after the write');
    };
    return ops;
  };
  await expect(backend.commit([{ type: 'put', key: 'a/1', value: '"after"' }])).rejects.toThrow('injected');
  internals.db.batch = batch;
  // Whatever LevelDB holds is what a scan returns; here the batch is on disk.
  expect((await backend.scan('a/', { limit: 10 })).map((r) => r.value)).toEqual(['"after"']);
});

test('ranges stay within a quarter of the cache budget, and each scan still reads the right rows', async () => {
  await openBackend(64 * 1024);
  const value = JSON.stringify({ text: 'x'.repeat(200) });
  await backend.commit(Array.from({ length: 200 }, (_, i) => ({ type: 'put' as const, key: `p${i}/k`, value })));
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 200; i++) {
      const rows = await backend.scan(`p${i}/`, { limit: 10 });
      expect(rows.map((r) => r.key)).toEqual([`p${i}/k`]);
      expect(internals.ranges.usedBytes).toBeLessThanOrEqual(16 * 1024);
    }
  }
  expect(internals.ranges.size).toBeGreaterThan(5);
  expect(internals.ranges.size).toBeLessThan(200);
  // An evicted range reads LevelDB again, and a commit still reaches the ranges kept.
  await backend.commit([{ type: 'put', key: 'p199/k', value: '"changed"' }]);
  expect((await backend.scan('p199/', { limit: 10 })).map((r) => r.value)).toEqual(['"changed"']);
  expect((await backend.scan('p0/', { limit: 10 })).map((r) => r.value)).toEqual([value]);
});
