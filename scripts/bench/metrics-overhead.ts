/**
 * What metrics cost (`npm run bench -- --only metrics`): two servers in the
 * same run, one with metrics on (HTTP side port up, scraped every 5 s as a
 * Prometheus would, more often than the usual 15 s) and one with
 * LUCIEN_METRICS=off, measured cell by cell in alternating order: a Get and
 * a trivial Run (`result = 1`, both engines), at c=1 and c=16. Reports
 * medians over repetitions and the median of the per-repetition on/off ratios.
 */
import { Metrics } from '../../src/observe/metrics';
import { Observatory } from '../../src/observe/observatory';
import { emptyBridgeCounts, type RunReport } from '../../src/observe/observer';
import type { EngineRegistry } from '../../src/procedures/script-engine';
import type { Backend } from '../../src/storage/backend';
import type { KeyCounter } from '../../src/observe/key-counts';
import { drive, type Sample } from './drive';
import { encodeGet, encodeRun, LucienLean } from './lucien-client';
import { freePort } from '../lib/free-port';
import { type RunningLucien, startLucien } from './servers';
import { spread } from './stats';

const median = (values: readonly number[]): number => spread(values).median;

export interface OverheadSettings {
  readonly durationMs: number;
  readonly reps: number;
  readonly warmupMs: number;
}

interface Workload {
  readonly id: string;
  readonly label: string;
  readonly concurrency: number;
  readonly op: (c: LucienLean) => () => Promise<unknown>;
}

const WORKLOADS: readonly Workload[] = [
  {
    id: 'get-c1',
    label: 'Get, c=1',
    concurrency: 1,
    op: (c) => {
      const r = encodeGet('bench', 'k0');
      return () => c.getEncoded(r);
    },
  },
  {
    id: 'get-c16',
    label: 'Get, c=16',
    concurrency: 16,
    op: (c) => {
      const r = encodeGet('bench', 'k0');
      return () => c.getEncoded(r);
    },
  },
  {
    id: 'run-js-c1',
    label: 'Run `result = 1` (JavaScript), c=1',
    concurrency: 1,
    op: (c) => {
      const r = encodeRun('bench_trivial_js', '[]');
      return () => c.runEncoded(r);
    },
  },
  {
    id: 'run-py-c1',
    label: 'Run `result = 1` (Python), c=1',
    concurrency: 1,
    op: (c) => {
      const r = encodeRun('bench_trivial_py', '[]');
      return () => c.runEncoded(r);
    },
  },
  {
    id: 'run-js-c16',
    label: 'Run `result = 1` (JavaScript), c=16',
    concurrency: 16,
    op: (c) => {
      const r = encodeRun('bench_trivial_js', '[]');
      return () => c.runEncoded(r);
    },
  },
];

async function prepare(c: LucienLean): Promise<void> {
  await c.put('bench', 'k0', JSON.stringify({ title: 'a small value', n: 1 }));
  await c.putScript('bench_trivial_js', 'javascript', 'result = 1;\n');
  await c.putScript('bench_trivial_py', 'python', 'result = 1\n');
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

/** Nanoseconds per call of `f`, after a warm-up, best of three rounds. */
function nsPerCall(f: (i: number) => void, n = 1_000_000): number {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < n / 10; i++) f(i);
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f(i);
    best = Math.min(best, Number(process.hrtime.bigint() - t) / n);
  }
  return best;
}

/** The observer's own cost per event, in this process (no server, no network). */
function inProcess(): string[] {
  const metrics = new Metrics({
    engines: { names: [] } as unknown as EngineRegistry,
    backend: {} as Backend,
    keys: {} as KeyCounter,
  });
  const on = new Observatory({ slowRunMs: 100, slowRunLogSize: 128 });
  on.attach(metrics);
  const off = new Observatory({ slowRunMs: 100, slowRunLogSize: 128 });
  const [recordOn, recordOff] = [on.rpc('Get'), off.rpc('Get')];
  const report: RunReport = {
    script: 'bench_trivial_js',
    engine: 'javascript',
    outcome: 'ok',
    durationMs: 0.4,
    attempts: 1,
    bridgeCalls: { ...emptyBridgeCounts(), get: 2 },
    dryRun: false,
    args: '[]',
    logs: [],
  };
  return [
    `| one rpc recorded (count + histogram) | ${fmt(
      nsPerCall((i) => recordOn('OK', 0.0002 + (i % 7) * 1e-5)),
      1,
    )} ns | ${fmt(
      nsPerCall(() => recordOff('OK', 0.0002)),
      1,
    )} ns |`,
    `| one script run reported (stats, slow-run log, metrics) | ${fmt(nsPerCall(() => on.run(report), 200_000))} ns | ${fmt(nsPerCall(() => off.run(report), 200_000))} ns |`,
  ];
}

export async function metricsOverhead(settings: OverheadSettings, log: (text: string) => void): Promise<string> {
  const httpPort = await freePort();
  const servers: RunningLucien[] = [];
  const clients: LucienLean[] = [];
  let scraper: NodeJS.Timeout | undefined;
  try {
    log('starting two Lucien servers: metrics on (scraped every 5 s) and metrics off…');
    const on = await startLucien({ args: ['--metrics', 'on', '--http-port', String(httpPort)] });
    servers.push(on);
    const off = await startLucien({ args: ['--metrics', 'off'] });
    servers.push(off);
    const sides = [
      { name: 'on', client: await LucienLean.connect(on.address) },
      { name: 'off', client: await LucienLean.connect(off.address) },
    ] as const;
    for (const s of sides) {
      clients.push(s.client);
      await prepare(s.client);
    }
    let scrapes = 0;
    let scrapeMs = 0;
    const scrape = async () => {
      const t = performance.now();
      const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
      await res.text();
      scrapeMs += performance.now() - t;
      scrapes++;
    };
    await scrape();
    scraper = setInterval(() => void scrape().catch(() => undefined), 5000);

    const samples = new Map<string, Sample[]>();
    const ratios = new Map<string, number[]>();
    for (const w of WORKLOADS) {
      for (const s of sides) await drive(w.op(s.client), w.concurrency, settings.warmupMs);
    }
    for (let rep = 0; rep < settings.reps; rep++) {
      for (const w of WORKLOADS) {
        const order = rep % 2 === 0 ? sides : [...sides].reverse();
        const got: Record<string, Sample> = {};
        for (const s of order) {
          const sample = await drive(w.op(s.client), w.concurrency, settings.durationMs);
          if (sample.errors > 0) log(`   ${w.id} ${s.name}: ${sample.errors} errors, first: ${sample.firstError}`);
          got[s.name] = sample;
          const key = `${w.id}/${s.name}`;
          samples.set(key, [...(samples.get(key) ?? []), sample]);
        }
        const [a, b] = [got.on as Sample, got.off as Sample];
        ratios.set(w.id, [...(ratios.get(w.id) ?? []), a.p50us / b.p50us]);
        log(
          `   rep ${rep + 1} ${w.id.padEnd(11)} on p50 ${fmt(a.p50us)} µs ${fmt(a.rps)} req/s | off p50 ${fmt(b.p50us)} µs ${fmt(b.rps)} req/s`,
        );
      }
    }
    const rows = WORKLOADS.map((w) => {
      const on = samples.get(`${w.id}/on`) ?? [];
      const off = samples.get(`${w.id}/off`) ?? [];
      const m = (list: Sample[], f: (s: Sample) => number) => median(list.map(f));
      const ratio = median(ratios.get(w.id) ?? []);
      return `| ${w.label} | ${fmt(m(on, (s) => s.p50us))} µs | ${fmt(m(off, (s) => s.p50us))} µs | ${fmt((ratio - 1) * 100, 1)} % | ${fmt(m(on, (s) => s.rps))} | ${fmt(m(off, (s) => s.rps))} |`;
    });
    return [
      `Metrics overhead: ${settings.reps} repetitions × ${settings.durationMs} ms per cell, alternating order; ${scrapes} scrapes of /metrics took ${fmt(scrapeMs / Math.max(1, scrapes), 1)} ms each on average.`,
      '',
      '| workload | p50, metrics on | p50, metrics off | p50 change (median of per-rep ratios) | req/s on | req/s off |',
      '|---|---|---|---|---|---|',
      ...rows,
      '',
      'In-process cost of the observer per event:',
      '',
      '| event | metrics on | metrics off |',
      '|---|---|---|',
      ...inProcess(),
    ].join('\n');
  } finally {
    if (scraper !== undefined) clearInterval(scraper);
    for (const c of clients) c.close();
    for (const s of servers) await s.stop().catch(() => undefined);
  }
}
