/**
 * Runs the whole storage conformance suite a second time through
 * PrefixedBackend, over memory and over LevelDB, with foreign keys around the
 * prefix that the view must never show; plus the bucket helpers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../../src/storage/backend';
import { LevelDbBackend } from '../../src/storage/leveldb';
import { MemoryBackend } from '../../src/storage/memory';
import { PrefixedBackend, bucketPrefix, decodeKey, encodeKey, listBuckets } from '../../src/storage/prefixed';
import { FactoryOptions, Harness, readAll, storageSuite } from '../conformance/storage';

const PREFIX = 'view/';
/** Neighbours of the prefix on both sides, bytewise, and keys that merely start alike. */
const FOREIGN = ['view', 'view.', 'view0', 'vie', 'viewx/a', 'a', 'k', 'p/b', '\uffff', '\u{1F600}', 'view\u{1F600}'];

async function harness(inner: Backend, cleanup: () => Promise<void>): Promise<Harness> {
  await inner.open();
  await inner.commit(FOREIGN.map((key) => ({ type: 'put', key, value: '{"foreign":true}' })));
  let n = 0;
  return {
    backend: new PrefixedBackend(inner, PREFIX),
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
      const foreign = (await readAll(inner)).filter((kv) => !kv.key.startsWith(PREFIX));
      expect(foreign.filter((kv) => FOREIGN.includes(kv.key)).every((kv) => kv.value === '{"foreign":true}')).toBe(true);
      await inner.close();
      await cleanup();
    },
  };
}

storageSuite({
  name: 'prefixed over memory',
  supports: new MemoryBackend().supports,
  factory: async (options?: FactoryOptions) => harness(new MemoryBackend(options), async () => undefined),
});

storageSuite({
  name: 'prefixed over leveldb',
  supports: new LevelDbBackend({ location: join(tmpdir(), 'unused') }).supports,
  factory: async (options?: FactoryOptions) => {
    const location = await mkdtemp(join(tmpdir(), 'lucien-prefixed-'));
    return harness(new LevelDbBackend({ location, ...options }), () => rm(location, { recursive: true, force: true }));
  },
});

describe('bucket keys', () => {
  it('encodeKey and decodeKey round-trip, splitting at the first separator', () => {
    expect(bucketPrefix('posts')).toBe('posts/');
    expect(encodeKey('posts', 'a/b')).toBe('posts/a/b');
    expect(decodeKey('posts/a/b')).toEqual({ bucket: 'posts', key: 'a/b' });
    expect(() => decodeKey('nobucket')).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });

  it('listBuckets finds each bucket once, in bytewise order, with one scan per bucket', async () => {
    const backend = new MemoryBackend();
    await backend.open();
    const buckets = ['a', 'a-b', 'a.b', 'a_b', 'ab', 'a0', '_scripts', 'Z'];
    const keys = buckets.flatMap((b) => ['', 'x', 'x/y', '\u{1F600}', '0'].map((k) => encodeKey(b, k)));
    await backend.commit(keys.map((key) => ({ type: 'put', key, value: '{}' })));
    const snapshot = await backend.snapshot();
    let scans = 0;
    const counting = { ...snapshot, scan: (...args: Parameters<typeof snapshot.scan>) => (scans++, snapshot.scan(...args)) };
    const expected = [...buckets].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(await listBuckets(counting)).toEqual(expected);
    expect(scans).toBe(buckets.length + 1);
    await snapshot.release();
    expect(await listBuckets(backend)).toEqual(expected);
    await backend.close();
  });

  it('listBuckets of an empty store is empty', async () => {
    const backend = new MemoryBackend();
    await backend.open();
    expect(await listBuckets(backend)).toEqual([]);
  });
});
