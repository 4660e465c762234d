/**
 * The observability pieces on their own: bridge ops read from call text,
 * outcomes from error codes, per-script statistics (percentiles, the
 * tracking limit), the slow-run ring, and key counts on the memory backend.
 */
import { Registry } from 'prom-client';
import { BucketSpace } from '../../src/storage/buckets';
import { MemoryBackend } from '../../src/storage/memory';
import { PlainCounter, PlainHistogram } from '../../src/observe/plain-metrics';
import { KeyCounter } from '../../src/observe/key-counts';
import { bridgeOp, emptyBridgeCounts, outcomeOf, type RunReport } from '../../src/observe/observer';
import { OTHER_SCRIPTS, percentile, ScriptStatsBook } from '../../src/observe/script-stats';
import { cut, SlowRunLog } from '../../src/observe/slow-runs';

const report = (over: Partial<RunReport> = {}): RunReport => ({
  script: 's',
  engine: 'python',
  outcome: 'ok',
  durationMs: 1,
  attempts: 1,
  bridgeCalls: { ...emptyBridgeCounts(), get: 2 },
  dryRun: false,
  args: '[]',
  logs: [],
  ...over,
});

test('bridgeOp reads the op both engines write first, anything else is other', () => {
  expect(bridgeOp('{"op":"get","bucket":"b","key":"k"}')).toBe('get');
  expect(bridgeOp('{"op":"getMany","bucket":"b","keys":[]}')).toBe('getMany');
  expect(bridgeOp('{"op":"list","bucket":"b"}')).toBe('list');
  expect(bridgeOp('{"op":"constructor"}')).toBe('other');
  expect(bridgeOp('{"bucket":"b","op":"get"}')).toBe('other');
  expect(bridgeOp('')).toBe('other');
});

test('outcomeOf maps error codes, and a cancelled caller wins', () => {
  expect(outcomeOf('SCRIPT_TIMEOUT', false)).toBe('timeout');
  expect(outcomeOf('SCRIPT_MEMORY', false)).toBe('memory');
  expect(outcomeOf('SCRIPT_LIMIT', false)).toBe('limit');
  expect(outcomeOf('CONFLICT', false)).toBe('conflict');
  expect(outcomeOf('SCRIPT_ERROR', false)).toBe('error');
  expect(outcomeOf('INTERNAL', false)).toBe('error');
  expect(outcomeOf('SCRIPT_TIMEOUT', true)).toBe('cancelled');
});

test('percentile is nearest-rank', () => {
  const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  expect(percentile(sorted, 0.5)).toBe(50);
  expect(percentile(sorted, 0.99)).toBe(99);
  expect(percentile(new Float64Array(0), 0.5)).toBe(0);
});

test('ScriptStatsBook counts outcomes, attempts, bucket calls and keeps the last error', () => {
  const book = new ScriptStatsBook();
  for (let i = 1; i <= 10; i++) book.record(report({ durationMs: i }), 1000 + i);
  book.record(
    report({
      outcome: 'error',
      durationMs: 50,
      attempts: 3,
      error: { code: 'SCRIPT_ERROR', message: 'ValueError: x', line: 4 },
    }),
    2000,
  );
  const s = book.get('s');
  expect(s).toMatchObject({
    calls: 11,
    attempts: 13,
    bridgeCalls: 22,
    p50Ms: 6,
    p99Ms: 50,
    maxMs: 50,
    lastRunUnixMs: 2000,
  });
  expect(s?.outcomes).toMatchObject({ ok: 10, error: 1 });
  expect(s?.lastError).toEqual({ code: 'SCRIPT_ERROR', message: 'ValueError: x', line: 4, unixMs: 2000 });
  expect(s?.meanMs).toBeCloseTo(105 / 11);
});

test('past the tracking limit, new scripts are counted under _other', () => {
  const book = new ScriptStatsBook(2);
  for (const script of ['a', 'b', 'c', 'd', 'a']) book.record(report({ script }));
  expect(book.all().map((s) => [s.name, s.calls])).toEqual([
    [OTHER_SCRIPTS, 2],
    ['a', 2],
    ['b', 1],
  ]);
  expect(book.label('zzz')).toBe(OTHER_SCRIPTS);
  expect(book.label('a')).toBe('a');
});

test('SlowRunLog keeps runs at or over the threshold, newest first, in a ring of fixed size', () => {
  const log = new SlowRunLog(10, 3);
  for (let i = 1; i <= 6; i++)
    log.record(
      report({ script: `s${i}`, durationMs: i % 2 === 0 ? 10 : 9, logs: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] }),
    );
  expect(log.list().map((r) => r.script)).toEqual(['s6', 's4', 's2']);
  expect(log.list(1).map((r) => r.id)).toEqual([3]);
  expect(log.list()[0]).toMatchObject({ bridgeCalls: 2, logs: ['a', 'b', 'c', 'd', 'e'] });
  for (let i = 0; i < 5; i++) log.record(report({ durationMs: 100 }));
  expect(log.list().map((r) => r.id)).toEqual([8, 7, 6]);
  expect(new SlowRunLog(0, 0).list()).toEqual([]);
});

test('cut keeps at most the given UTF-8 bytes, never splitting a character', () => {
  expect(cut('short')).toBe('short');
  const long = cut('é'.repeat(300), 100);
  expect(Buffer.byteLength(long)).toBeLessThanOrEqual(100);
  expect(long.endsWith('…')).toBe(true);
  expect(long).not.toMatch(/\uFFFD/);
});

describe('KeyCounter', () => {
  let backend: MemoryBackend;
  beforeEach(async () => {
    backend = new MemoryBackend();
    await backend.open();
    const mutations = [];
    for (let i = 0; i < 25; i++) mutations.push({ type: 'put' as const, key: `big/k${i}`, value: '{}' });
    mutations.push({ type: 'put' as const, key: 'small/x', value: '{}' });
    await backend.commit(mutations);
  });
  afterEach(() => backend.close());

  test('counts keys per bucket, caps at the limit, and caches until invalidated', async () => {
    const counter = new KeyCounter(new BucketSpace(backend), 60_000, 10);
    expect(await counter.all()).toEqual([
      { bucket: 'big', keys: 10, capped: true },
      { bucket: 'small', keys: 1, capped: false },
    ]);
    await backend.commit([{ type: 'put', key: 'small/y', value: '{}' }]);
    expect((await counter.all())[1]?.keys).toBe(1);
    counter.invalidate();
    expect((await counter.all())[1]?.keys).toBe(2);
    expect(await new KeyCounter(new BucketSpace(backend), 0, 1000).all()).toEqual([
      { bucket: 'big', keys: 25, capped: false },
      { bucket: 'small', keys: 2, capped: false },
    ]);
  });
});

describe('plain metrics', () => {
  test('a histogram exposes cumulative buckets, +Inf, sum and count in the Prometheus format', async () => {
    const registry = new Registry();
    const h = new PlainHistogram('t_seconds', 'test', ['method'], [0.1, 1], registry);
    const cell = h.cell('Get');
    for (const v of [0.05, 0.1, 0.5, 3]) h.observe(cell, v);
    const c = new PlainCounter('t_total', 'test', ['method', 'code'], registry);
    c.cell('Get', 'OK').value += 2;
    const text = await registry.metrics();
    expect(text).toContain('# TYPE t_seconds histogram');
    expect(text).toContain('t_seconds_bucket{method="Get",le="0.1"} 2');
    expect(text).toContain('t_seconds_bucket{method="Get",le="1"} 3');
    expect(text).toContain('t_seconds_bucket{method="Get",le="+Inf"} 4');
    expect(text).toContain('t_seconds_sum{method="Get"} 3.65');
    expect(text).toContain('t_seconds_count{method="Get"} 4');
    expect(text).toContain('# TYPE t_total counter');
    expect(text).toContain('t_total{method="Get",code="OK"} 2');
    expect(h.cell('Get')).toBe(cell);
  });
});
