/**
 * Turns the raw samples into what people read: per-cell medians with their
 * spread over repetitions, per-repetition ratios for the targets (each ratio
 * is taken between cells measured side by side in the same repetition), and
 * the markdown tables the bench prints and the README shows.
 */
import type { System } from './cells';
import type { Sample } from './drive';
import { fmt, fmtRatio, type Spread, spread } from './stats';

export interface CellResult {
  readonly id: string;
  readonly label: string;
  readonly system: System;
  readonly concurrency: number;
  readonly samples: Sample[];
  /** CPU of the measured server's process tree per request, one per repetition. */
  readonly serverCpuUs: number[];
}

export interface Lifecycle {
  /** Spawn to "serving", each cold start (ms). */
  readonly startMs: number[];
  /** Spawn to every engine pool complete (the hosts after each engine's first start after SERVING). */
  readonly poolCompleteMs: number[];
  readonly reportedStartupMs: number[];
  /** Per engine, its pool's warm-up time at each start (ms). */
  readonly engineWarmMs: Record<string, number[]>;
  readonly idle: { rssMb: number; pssMb: number; processes: number };
  readonly idleAfterLoad: { rssMb: number; pssMb: number; processes: number } | undefined;
  readonly underLoad: { rssMb: number; pssMb: number; processes: number } | undefined;
  readonly enginePool: string;
}

export interface Target {
  readonly name: string;
  readonly measured: Spread;
  readonly op: '≤' | '≥';
  readonly limit: number;
  readonly unit: string;
  readonly holds: boolean | undefined;
  readonly note?: string;
}

type Results = ReadonlyMap<string, CellResult>;

const col = (r: Results, id: string, pick: (s: Sample) => number): number[] => r.get(id)?.samples.map(pick) ?? [];
const rps = (r: Results, id: string) => col(r, id, (s) => s.rps);
const p50 = (r: Results, id: string) => col(r, id, (s) => s.p50us);
const pairwise = (a: number[], b: number[], f: (x: number, y: number) => number): number[] =>
  a.length === 0 || b.length === 0 ? [] : a.slice(0, Math.min(a.length, b.length)).map((x, i) => f(x, b[i] as number));
const div = (a: number[], b: number[]) => pairwise(a, b, (x, y) => x / y);

/** Per-call bridge cost in µs, per repetition: (p50 at N calls − p50 at 0) / N. */
export function bridgeCost(r: Results, engine: 'js' | 'py', calls: number): number[] {
  return pairwise(p50(r, `bridgeN-${engine}`), p50(r, `bridge0-${engine}`), (n, z) => (n - z) / calls);
}

function target(name: string, values: number[], op: '≤' | '≥', limit: number, unit = '×', note?: string): Target {
  const measured = spread(values);
  const holds = measured.n === 0 ? undefined : op === '≤' ? measured.median <= limit : measured.median >= limit;
  return { name, measured, op, limit, unit, holds, note };
}

export function targets(r: Results, life: Lifecycle, calls: number): Target[] {
  const pp = p50(r, 'pingpong');
  return [
    target('bridge call ÷ bare ping-pong (JavaScript)', div(bridgeCost(r, 'js', calls), pp), '≤', 1.5),
    target('bridge call ÷ bare ping-pong (Python)', div(bridgeCost(r, 'py', calls), pp), '≤', 1.5),
    target(
      'Run `result = 1` p50 ÷ Get p50, c=1 (JavaScript)',
      div(p50(r, 's1-trivial-js'), p50(r, 's1-get')),
      '≤',
      1.5,
    ),
    target('Run `result = 1` p50 ÷ Get p50, c=1 (Python)', div(p50(r, 's1-trivial-py'), p50(r, 's1-get')), '≤', 2),
    target(
      'naive 21 Gets p50 ÷ render_post p50 (Python, seed verbatim)',
      div(p50(r, 's1-naive'), p50(r, 's1-render-py')),
      '≥',
      3,
    ),
    target('naive 21 Gets p50 ÷ render_post p50 (JavaScript)', div(p50(r, 's1-naive'), p50(r, 's1-render-js')), '≥', 3),
    target('naive 21 Gets p50 ÷ getMany render p50 (Python)', div(p50(r, 's1-naive'), p50(r, 's1-many-py')), '≥', 8),
    target(
      'naive 21 Gets p50 ÷ getMany render p50 (JavaScript)',
      div(p50(r, 's1-naive'), p50(r, 's1-many-js')),
      '≥',
      8,
    ),
    target(
      'render_post p50 ÷ Run `result = 1` p50, c=1 (JavaScript)',
      div(p50(r, 's1-render-js'), p50(r, 's1-trivial-js')),
      '≤',
      2,
    ),
    target(
      'render_post p50 ÷ Run `result = 1` p50, c=1 (Python)',
      div(p50(r, 's1-render-py'), p50(r, 's1-trivial-py')),
      '≤',
      2.5,
    ),
    target(
      'render_post req/s ÷ Get req/s, c=16 (JavaScript)',
      div(rps(r, 's16-render-js'), rps(r, 's16-get')),
      '≥',
      0.5,
    ),
    target('render_post req/s ÷ Get req/s, c=16 (Python)', div(rps(r, 's16-render-py'), rps(r, 's16-get')), '≥', 0.3),
    target(
      'hot key ÷ distinct keys req/s, 8 clients (JavaScript)',
      div(rps(r, 'hot-js'), rps(r, 'distinct-js')),
      '≥',
      0.5,
    ),
    target('hot key ÷ distinct keys req/s, 8 clients (Python)', div(rps(r, 'hot-py'), rps(r, 'distinct-py')), '≥', 0.5),
    target('Get req/s ÷ bare grpc-js echo req/s, c=64', div(rps(r, 'get@64'), rps(r, 'echo@64')), '≥', 0.9),
    target('start to SERVING, warm engines, default pool', life.startMs, '≤', 4000, ' ms'),
    target('idle resident memory, all processes (sum of RSS)', [life.idle.rssMb], '≤', 600, ' MB'),
  ];
}

const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const head = (cells: string[]) => `${row(cells)}\n${row(cells.map(() => '---'))}`;
const us = (v: number[]) => fmt(spread(v));

function kvTable(r: Results, levels: readonly number[]): string {
  const lines = [
    head([
      'operation',
      'conc.',
      'Lucien req/s',
      'p50 µs',
      'p99 µs',
      'server CPU µs/req',
      'peer',
      'peer req/s',
      'peer p50 µs',
      'Lucien ÷ peer (req/s)',
    ]),
  ];
  const peerOf: Record<string, [string, string]> = {
    get: ['etcd-get', 'etcd Range'],
    put: ['etcd-put', 'etcd Put'],
    list: ['etcd-list', 'etcd Range 100'],
  };
  for (const n of levels) {
    for (const [op, label] of [
      ['get', 'Get'],
      ['put', 'Put'],
      ['batchget', 'BatchGet (10 keys)'],
      ['list', 'List (100 keys)'],
    ] as const) {
      const id = `${op}@${n}`;
      if (!r.has(id)) continue;
      const peer = peerOf[op];
      const pid = peer ? `${peer[0]}@${n}` : '';
      const has = peer !== undefined && r.has(pid);
      lines.push(
        row([
          label,
          String(n),
          us(rps(r, id)),
          us(p50(r, id)),
          us(col(r, id, (s) => s.p99us)),
          us(r.get(id)?.serverCpuUs ?? []),
          has ? (peer as [string, string])[1] : '–',
          has ? us(rps(r, pid)) : '–',
          has ? us(p50(r, pid)) : '–',
          has ? fmtRatio(spread(div(rps(r, id), rps(r, pid)))) : '–',
        ]),
      );
    }
    const echo = `echo@${n}`;
    if (r.has(echo)) {
      lines.push(
        row([
          'Get vs bare grpc-js echo',
          String(n),
          us(rps(r, `get@${n}`)),
          us(p50(r, `get@${n}`)),
          '',
          '',
          'grpc-js echo',
          us(rps(r, echo)),
          us(p50(r, echo)),
          fmtRatio(spread(div(rps(r, `get@${n}`), rps(r, echo)))),
        ]),
      );
    }
  }
  return lines.join('\n');
}

function etcdBackendTable(r: Results): string {
  const lines = [
    head([
      'operation',
      'conc.',
      'Lucien on etcd req/s',
      'p50 µs',
      'server CPU µs/req',
      'etcd direct',
      'etcd req/s',
      'etcd p50 µs',
      'Lucien ÷ etcd (req/s)',
      'p50 − etcd p50 µs',
    ]),
  ];
  for (const n of [1, 16]) {
    for (const [op, label, peer] of [
      ['get', 'Get', 'Range'],
      ['put', 'Put', 'Put'],
      ['incr', 'script increment', 'Range + Txn'],
    ] as const) {
      const id = `eb-${op}@${n}`;
      const pid = `eb-etcd-${op}@${n}`;
      if (!r.has(id) || !r.has(pid)) continue;
      lines.push(
        row([
          label,
          String(n),
          us(rps(r, id)),
          us(p50(r, id)),
          us(r.get(id)?.serverCpuUs ?? []),
          peer,
          us(rps(r, pid)),
          us(p50(r, pid)),
          fmtRatio(spread(div(rps(r, id), rps(r, pid)))),
          us(pairwise(p50(r, id), p50(r, pid), (a, b) => a - b)),
        ]),
      );
    }
  }
  return lines.length === 1 ? '' : lines.join('\n');
}

function cellsTable(
  r: Results,
  ids: string[],
  base: { id: string; label: string; metric: 'p50' | 'rps'; invert: boolean; only?: RegExp } | undefined,
  redisId?: string,
): string {
  const cols = ['workload', 'conc.', 'req/s', 'p50 µs', 'p99 µs', 'server CPU µs/req'];
  if (base) cols.push(base.label);
  if (redisId && r.has(redisId)) cols.push(base?.metric === 'p50' ? 'p50 ÷ Redis p50' : 'req/s ÷ Redis req/s');
  const lines = [head(cols)];
  for (const id of ids) {
    const c = r.get(id);
    if (c === undefined) continue;
    const cells = [
      c.label,
      String(c.concurrency),
      us(rps(r, id)),
      us(p50(r, id)),
      us(col(r, id, (s) => s.p99us)),
      us(c.serverCpuUs),
    ];
    if (base) {
      const m = base.metric === 'p50' ? p50 : rps;
      const relevant = base.only === undefined || base.only.test(id);
      cells.push(
        id === base.id
          ? '1×'
          : relevant
            ? fmtRatio(spread(base.invert ? div(m(r, base.id), m(r, id)) : div(m(r, id), m(r, base.id))))
            : '',
      );
    }
    if (redisId && r.has(redisId)) {
      const isRender = /render|many/.test(id);
      // Latency: how many times slower than Redis; throughput: what share of Redis's rate.
      const ratio = base?.metric === 'p50' ? div(p50(r, id), p50(r, redisId)) : div(rps(r, id), rps(r, redisId));
      cells.push(isRender && id !== redisId ? fmtRatio(spread(ratio)) : '');
    }
    lines.push(row(cells));
  }
  return lines.join('\n');
}

/** render_post in Lucien against the same render as one Redis EVALSHA: c=1 latency and c=16 throughput, as ratios. */
function redisTable(r: Results): string {
  if (!r.has('s1-redis') && !r.has('s16-redis')) return '';
  const lines = [
    head([
      'render_post',
      'p50 µs, c=1',
      'Redis p50 µs',
      'Lucien ÷ Redis (p50)',
      'req/s, c=16',
      'Redis req/s',
      'Lucien ÷ Redis (req/s)',
    ]),
  ];
  for (const [label, e] of [
    ['JavaScript', 'js'],
    ['Python (seed verbatim)', 'py'],
  ] as const) {
    const [l1, l16] = [`s1-render-${e}`, `s16-render-${e}`];
    lines.push(
      row([
        label,
        us(p50(r, l1)),
        us(p50(r, 's1-redis')),
        fmtRatio(spread(div(p50(r, l1), p50(r, 's1-redis')))),
        us(rps(r, l16)),
        us(rps(r, 's16-redis')),
        fmtRatio(spread(div(rps(r, l16), rps(r, 's16-redis')))),
      ]),
    );
  }
  return lines.join('\n');
}

function bridgeTable(r: Results, calls: number): string {
  const lines = [head(['measurement', 'p50 µs', 'p99 µs', 'per call µs', '÷ ping-pong'])];
  const pp = p50(r, 'pingpong');
  lines.push(
    row([r.get('pingpong')?.label ?? 'ping-pong', us(pp), us(col(r, 'pingpong', (s) => s.p99us)), us(pp), '1×']),
  );
  for (const id of ['pingpong-json', 'pingpong-async', 'pingpong-sync']) {
    const c = r.get(id);
    if (c)
      lines.push(
        row([
          c.label,
          us(p50(r, id)),
          us(col(r, id, (s) => s.p99us)),
          us(p50(r, id)),
          fmtRatio(spread(div(p50(r, id), pp))),
        ]),
      );
  }
  for (const e of ['js', 'py'] as const) {
    for (const id of [`bridge0-${e}`, `bridgeN-${e}`]) {
      const c = r.get(id);
      if (c) lines.push(row([c.label, us(p50(r, id)), us(col(r, id, (s) => s.p99us)), '', '']));
    }
    const cost = bridgeCost(r, e, calls);
    lines.push(
      row([
        `**one bridge get (${e === 'js' ? 'JavaScript' : 'Python'})**: (N=${calls} − N=0) ÷ ${calls}`,
        '',
        '',
        fmt(spread(cost), 1),
        fmtRatio(spread(div(cost, pp))),
      ]),
    );
  }
  return lines.join('\n');
}

function lifecycleTable(life: Lifecycle): string {
  const mem = (m: { rssMb: number; pssMb: number; processes: number } | undefined) =>
    m === undefined
      ? ['–', '–', '–']
      : [Math.round(m.rssMb).toString(), Math.round(m.pssMb).toString(), String(m.processes)];
  return [
    head(['measurement', 'value']),
    row([
      'start to SERVING (spawn → health SERVING), ms',
      `${fmt(spread(life.startMs))} over ${life.startMs.length} cold starts`,
    ]),
    row(['server-reported startupMs (store open → SERVING)', fmt(spread(life.reportedStartupMs))]),
    ...Object.entries(life.engineWarmMs).map(([engine, ms]) =>
      row([`  of which: the first ${engine} host ready, ms`, fmt(spread(ms))]),
    ),
    row([
      'start to every engine pool complete (the other hosts start one by one after SERVING), ms',
      fmt(spread(life.poolCompleteMs)),
    ]),
    row(['engine pool', life.enginePool]),
    '',
    head(['resident memory (server + engine hosts)', 'sum RSS MB', 'sum PSS MB', 'processes']),
    row(['idle, after start', ...mem(life.idle)]),
    row(['under load (peak while scripts run at c=16 / 8)', ...mem(life.underLoad)]),
    row(['idle, after the load', ...mem(life.idleAfterLoad)]),
  ].join('\n');
}

function targetsTable(ts: Target[]): string {
  const lines = [head(['target', 'measured (median, min–max)', 'limit', 'holds'])];
  for (const t of ts) {
    const value = t.unit === '×' ? fmtRatio(t.measured) : `${fmt(t.measured)}${t.unit}`;
    lines.push(
      row([
        t.name,
        value,
        `${t.op} ${t.limit}${t.unit}`,
        t.holds === undefined ? 'not measured' : t.holds ? 'yes' : '**no**',
      ]),
    );
  }
  return lines.join('\n');
}

function clientTable(r: Results): string {
  if (!r.has('client-grpcjs')) return '';
  const lines = [head(['load client (Get, c=16)', 'req/s', 'p50 µs', 'client CPU µs/call', 'server CPU µs/req'])];
  for (const id of ['client-lean', 'client-grpcjs']) {
    const c = r.get(id) as CellResult;
    lines.push(row([c.label, us(rps(r, id)), us(p50(r, id)), us(col(r, id, (s) => s.clientCpuUs)), us(c.serverCpuUs)]));
  }
  return lines.join('\n');
}

export interface ReportInput {
  readonly results: Results;
  readonly life: Lifecycle;
  readonly calls: number;
  readonly levels: readonly number[];
  readonly machine: string;
  readonly settings: string;
}

export function markdown(input: ReportInput, ts: Target[]): string {
  const r = input.results;
  const s1 = [
    's1-get',
    's1-trivial-js',
    's1-trivial-py',
    's1-naive',
    's1-batch',
    's1-render-py',
    's1-render-js',
    's1-many-py',
    's1-many-js',
    's1-redis',
  ];
  const s16 = ['s16-get', 's16-naive', 's16-render-py', 's16-render-js', 's16-many-py', 's16-many-js', 's16-redis'];
  const parts = [
    `Machine: ${input.machine}`,
    `Settings: ${input.settings}`,
    'Numbers are medians over the repetitions, with (min–max) across them; ratios are taken per repetition between cells run side by side.',
    '### Targets',
    targetsTable(ts),
    '### Key-value rpcs (Lucien on LevelDB vs etcd)',
    kvTable(r, input.levels),
    '### Scripts: latency at concurrency 1',
    cellsTable(
      r,
      s1,
      {
        id: 's1-naive',
        label: 'speed-up vs naive 21 Gets (p50)',
        metric: 'p50',
        invert: true,
        only: /render|many|batch|redis/,
      },
      's1-redis',
    ),
    '### Scripts: throughput at concurrency 16',
    cellsTable(r, s16, { id: 's16-get', label: '÷ Get req/s', metric: 'rps', invert: false }, 's16-redis'),
    ...(redisTable(r) === ''
      ? []
      : ['### render_post vs Redis EVALSHA (the same 21 reads as one Lua script)', redisTable(r)]),
    '### Hot key: a read-modify-write script, 8 clients',
    cellsTable(r, ['hot-js', 'distinct-js', 'hot-py', 'distinct-py'], undefined),
    `### Bridge call vs bare ping-pong`,
    bridgeTable(r, input.calls),
    '### Start-up and memory',
    lifecycleTable(input.life),
  ];
  const onEtcd = etcdBackendTable(r);
  if (onEtcd !== '') parts.push('### Lucien on etcd vs etcd direct', onEtcd);
  const client = clientTable(r);
  if (client !== '') parts.push('### Load client cost', client);
  return parts.join('\n\n');
}
