/**
 * Backend.scan (the snapshot-free scan List reads) on the real LevelDB, a
 * real etcd and the memory backend: the same rows as a snapshot's scan, for prefixes and
 * keys around every UTF-8 length boundary (the LevelDB scan bounds its range
 * with text, leveldb-layout.ts prefixEndText), and it reflects every
 * acknowledged commit.
 */
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, KeyValue, ScanOptions } from '../../src/storage/backend';
import { compareBytewise } from '../../src/storage/bytewise';
import { EtcdBackend } from '../../src/storage/etcd';
import { LevelDbBackend } from '../../src/storage/leveldb';
import { prefixEndText } from '../../src/storage/leveldb-layout';
import { MemoryBackend } from '../../src/storage/memory';
import { type RunningEtcd, startEtcd } from '../helpers/etcd';

/** Characters at the edges of UTF-8's 1-, 2-, 3- and 4-byte forms and of the surrogate gap. */
const EDGES = ['\u0000', 'a', 'b', '\u007f', '\u0080', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff'];
const ASTRAL = ['\u{10000}', '\u{1f600}', '\u{10ffff}'];
const char = fc.constantFrom(...EDGES, ...ASTRAL);
const word = fc.array(char, { maxLength: 4 }).map((cs) => cs.join(''));

async function snapshotScan(backend: Backend, prefix: string, options: ScanOptions): Promise<KeyValue[]> {
  const snapshot = await backend.snapshot();
  try {
    return await snapshot.scan(prefix, options);
  } finally {
    await snapshot.release();
  }
}

describe('prefixEndText', () => {
  it('bounds exactly the keys that start with the prefix, in UTF-8 byte order', () => {
    fc.assert(
      fc.property(word, word, (prefix, key) => {
        const end = prefixEndText(prefix);
        const starts = key.startsWith(prefix);
        const atOrAbove = compareBytewise(key, prefix) >= 0;
        const below = end === undefined || compareBytewise(key, end) < 0;
        expect(atOrAbove && below).toBe(starts);
      }),
      { numRuns: 2000 },
    );
  });

  it('has no bound for a prefix of U+10FFFF only, and steps over the surrogates', () => {
    expect(prefixEndText('')).toBeUndefined();
    expect(prefixEndText('\u{10ffff}\u{10ffff}')).toBeUndefined();
    expect(prefixEndText('a\u{10ffff}')).toBe('b');
    expect(prefixEndText('a\ud7ff')).toBe('a\ue000');
    expect(prefixEndText('a\u{1f600}')).toBe('a\u{1f601}');
  });
});

interface Made {
  readonly backend: Backend;
  cleanup(): Promise<void>;
}

let etcd: RunningEtcd | undefined;
let namespaces = 0;

/** A fresh, open backend of each kind (etcd: a namespace of its own on one etcd this file starts). */
const MAKERS: Record<string, () => Promise<Made>> = {
  memory: async () => {
    const backend = new MemoryBackend();
    await backend.open();
    return { backend, cleanup: () => backend.close() };
  },
  leveldb: async () => {
    const location = await mkdtemp(join(tmpdir(), 'lucien-scan-'));
    const backend = new LevelDbBackend({ location });
    await backend.open();
    return {
      backend,
      cleanup: async () => {
        await backend.close();
        await rm(location, { recursive: true, force: true });
      },
    };
  },
  etcd: async () => {
    if (etcd === undefined) etcd = await startEtcd();
    const backend = new EtcdBackend({ endpoints: [etcd.endpoint], namespace: `scan${++namespaces}/` });
    await backend.open();
    return { backend, cleanup: () => backend.close() };
  },
};

afterAll(async () => {
  await etcd?.stop();
});

describe.each(['memory', 'leveldb', 'etcd'])('%s Backend.scan', (kind) => {
  let backend: Backend;
  let made: Made;

  beforeEach(async () => {
    made = await (MAKERS[kind] as () => Promise<Made>)();
    backend = made.backend;
  }, 30000);

  afterEach(async () => {
    await made.cleanup();
  });

  it('returns what a snapshot scan returns, for any keys, prefix, start and limit', async () => {
    const keys = fc.sample(fc.uniqueArray(word, { minLength: 30, maxLength: 60 }), { numRuns: 1, seed: 15 })[0] ?? [];
    await backend.commit(keys.map((key, i) => ({ type: 'put', key, value: `{"i":${i}}` })));
    await fc.assert(
      fc.asyncProperty(
        word,
        fc.option(word, { nil: undefined }),
        fc.integer({ min: 1, max: 70 }),
        fc.boolean(),
        async (prefix, after, limit, keysOnly) => {
          const options = { after, limit, keysOnly };
          const rows = await backend.scan(prefix, options);
          expect(rows).toEqual(await snapshotScan(backend, prefix, options));
          const expected = keys
            .filter((k) => k.startsWith(prefix) && (after === undefined || compareBytewise(k, after) > 0))
            .sort(compareBytewise)
            .slice(0, limit);
          expect(rows.map((r) => r.key)).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reflects every acknowledged commit, and a limit of 0 reads nothing', async () => {
    for (let i = 0; i < 20; i++) {
      const { revision } = await backend.commit([
        { type: 'put', key: `p/${String(i).padStart(2, '0')}`, value: `${i}` },
      ]);
      const rows = await backend.scan('p/', { limit: 100 });
      expect(rows).toHaveLength(i + 1);
      expect(rows[i]).toEqual({
        key: `p/${String(i).padStart(2, '0')}`,
        value: `${i}`,
        createRevision: revision,
        modRevision: revision,
      });
    }
    await backend.commit([{ type: 'delete', key: 'p/00' }]);
    expect((await backend.scan('p/', { limit: 100 })).map((r) => r.key)).not.toContain('p/00');
    expect(await backend.scan('p/', { limit: 0 })).toEqual([]);
  });

  it('a page larger than one read batch (several MiB) comes back whole and in order', async () => {
    const big = (i: number): string => JSON.stringify({ i, pad: 'é'.repeat(60_000) });
    for (let i = 0; i < 60; i += 10) {
      await backend.commit(
        Array.from({ length: 10 }, (_, j) => ({
          type: 'put' as const,
          key: `big/${String(i + j).padStart(2, '0')}`,
          value: big(i + j),
        })),
      );
    }
    const rows = await backend.scan('big/', { limit: 60 });
    expect(rows.map((r) => r.key)).toEqual(Array.from({ length: 60 }, (_, i) => `big/${String(i).padStart(2, '0')}`));
    rows.forEach((r, i) => expect(r.value).toBe(big(i)));
    expect(await backend.scan('big/', { after: 'big/55', limit: 10 })).toHaveLength(4);
  });

  it('refuses to read once closed', async () => {
    await backend.close();
    await expect(backend.scan('', { limit: 1 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
