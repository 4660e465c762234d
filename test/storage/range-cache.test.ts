import type { KeyValue } from '../../src/storage/backend';
import { RangeCache, type RangeQuery, rangeQuery } from '../../src/storage/range-cache';

const row = (key: string, value = '{}'): KeyValue => ({ key, value, createRevision: 1, modRevision: 1 });
const query = (prefix: string, limit: number, after?: string): RangeQuery =>
  rangeQuery(prefix, { limit, after }) as RangeQuery;
const written = (...keys: string[]): Map<string, unknown> => new Map(keys.map((k) => [k, undefined]));

/** Fills `q` with `rows` through a scan that no batch overlapped. */
function fill(cache: RangeCache, q: RangeQuery, rows: KeyValue[]): void {
  cache.finishScan(cache.startScan(), q, rows);
}

describe('RangeCache', () => {
  it('answers a scan it holds, and only with the same prefix, start and limit', () => {
    const cache = new RangeCache(1 << 20);
    const rows = [row('a/1'), row('a/2')];
    fill(cache, query('a/', 10), rows);
    expect(cache.lookup(query('a/', 10))).toBe(rows);
    expect(cache.lookup(query('a/', 11))).toBeUndefined();
    expect(cache.lookup(query('a/', 10, 'a/1'))).toBeUndefined();
    expect(cache.lookup(query('a', 10))).toBeUndefined();
    expect(cache.lookup(rangeQuery('a/', { limit: 10, keysOnly: true }) as RangeQuery)).toBeUndefined();
  });

  it('a commit drops every range whose span holds a key it writes, and no other', () => {
    const cache = new RangeCache(1 << 20);
    fill(cache, query('a/', 10), [row('a/1'), row('a/5')]);
    fill(cache, query('b/', 10), [row('b/1')]);
    fill(cache, query('', 10), [row('a/1'), row('a/5'), row('b/1')]);
    // Past the prefix end and between ranges: nothing of a/ or b/ changes; the whole-store scan does.
    cache.begin(written('a0', 'c'));
    expect(cache.lookup(query('a/', 10))).toBeDefined();
    expect(cache.lookup(query('b/', 10))).toBeDefined();
    expect(cache.lookup(query('', 10))).toBeUndefined();
    cache.settle();
    // A new key inside a/, between rows.
    cache.begin(written('a/3'));
    expect(cache.lookup(query('a/', 10))).toBeUndefined();
    expect(cache.lookup(query('b/', 10))).toBeDefined();
    cache.settle();
  });

  it('a scan cut short by its limit depends only on keys up to its last row', () => {
    const cache = new RangeCache(1 << 20);
    fill(cache, query('k', 2), [row('k1'), row('k2')]);
    cache.begin(written('k3'));
    expect(cache.lookup(query('k', 2))).toBeDefined();
    cache.begin(written('k2'));
    expect(cache.lookup(query('k', 2))).toBeUndefined();
    // A scan that found fewer rows than its limit depends on its whole prefix.
    fill(cache, query('k', 5), [row('k1')]);
    cache.begin(written('kz'));
    expect(cache.lookup(query('k', 5))).toBeUndefined();
  });

  it('a scan starting after a key depends on the keys from there on only', () => {
    const cache = new RangeCache(1 << 20);
    fill(cache, query('k', 10, 'k5'), [row('k6')]);
    cache.begin(written('k4'));
    expect(cache.lookup(query('k', 10, 'k5'))).toBeDefined();
    cache.begin(written('k55'));
    expect(cache.lookup(query('k', 10, 'k5'))).toBeUndefined();
  });

  it('a scan does not fill when a batch in flight at its start, or begun since, wrote inside its span', () => {
    const cache = new RangeCache(1 << 20);
    const q = query('a/', 10);
    // In flight when the scan starts, settled before it ends.
    cache.begin(written('a/1'));
    let ticket = cache.startScan();
    cache.settle();
    cache.finishScan(ticket, q, [row('a/1')]);
    expect(cache.lookup(q)).toBeUndefined();
    // Begun and settled while the scan reads.
    ticket = cache.startScan();
    cache.begin(written('a/2'));
    cache.settle();
    cache.finishScan(ticket, q, [row('a/1')]);
    expect(cache.lookup(q)).toBeUndefined();
    // A batch elsewhere does not stop it.
    ticket = cache.startScan();
    cache.begin(written('b/1'));
    cache.settle();
    cache.finishScan(ticket, q, [row('a/1')]);
    expect(cache.lookup(q)).toBeDefined();
  });

  it('a batch that failed counts like one that was written', () => {
    const cache = new RangeCache(1 << 20);
    const q = query('a/', 10);
    fill(cache, q, [row('a/1')]);
    const ticket = cache.startScan();
    cache.begin(written('a/1'));
    expect(cache.lookup(q)).toBeUndefined();
    cache.settle(); // as after a failed write
    cache.finishScan(ticket, q, [row('a/1')]);
    expect(cache.lookup(q)).toBeUndefined();
  });

  it('a scan that outlives more batches than it remembers does not fill', () => {
    const cache = new RangeCache(1 << 20);
    const q = query('a/', 10);
    const ticket = cache.startScan();
    for (let i = 0; i < 100; i++) {
      cache.begin(written(`z${i}`));
      cache.settle();
    }
    cache.finishScan(ticket, q, [row('a/1')]);
    expect(cache.lookup(q)).toBeUndefined();
    fill(cache, q, [row('a/1')]);
    expect(cache.lookup(q)).toBeDefined();
  });

  it('stays within its byte budget, evicting the oldest ranges first', () => {
    const cache = new RangeCache(20_000);
    const value = JSON.stringify({ v: 'x'.repeat(100) });
    for (let i = 0; i < 100; i++) fill(cache, query(`p${i}/`, 10), [row(`p${i}/a`, value), row(`p${i}/b`, value)]);
    expect(cache.usedBytes).toBeLessThanOrEqual(20_000);
    expect(cache.size).toBeGreaterThan(5);
    expect(cache.size).toBeLessThan(100);
    expect(cache.lookup(query('p99/', 10))).toBeDefined();
    expect(cache.lookup(query('p0/', 10))).toBeUndefined();
    // One range larger than a quarter of the budget is not kept at all.
    fill(cache, query('big/', 100), [row('big/a', 'x'.repeat(3000))]);
    expect(cache.lookup(query('big/', 100))).toBeUndefined();
  });

  it('caches nothing for a prefix or start with a lone surrogate, or with a zero budget', () => {
    expect(rangeQuery('a\ud800', { limit: 1 })).toBeUndefined();
    expect(rangeQuery('a', { limit: 1, after: '\udc00' })).toBeUndefined();
    expect(rangeQuery('a\u{1f600}', { limit: 1 })).toBeDefined();
    const cache = new RangeCache(0);
    fill(cache, query('a/', 10), [row('a/1')]);
    expect(cache.size).toBe(0);
  });

  it('indexes a span ending in an astral character without splitting its surrogate pair', () => {
    const cache = new RangeCache(1 << 20);
    const q = query('\u{1f600}', 1);
    fill(cache, q, [row('\u{1f600}a')]);
    cache.begin(written('\u{1f600}'));
    expect(cache.lookup(q)).toBeUndefined();
  });
});
