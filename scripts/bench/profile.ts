/**
 * Summarises a V8 .cpuprofile (from node --cpu-prof): self time per
 * function and per area (node internals by module, grpc-js, classic-level,
 * Lucien's own folders), as a share of the time the process was not idle.
 *
 *   node dist/scripts/bench/profile.js FILE.cpuprofile [--top 25]
 *   node dist/scripts/bench/profile.js FILE.cpuprofile --callers writeBuffer
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface ProfileSummary {
  readonly wallMs: number;
  readonly busyMs: number;
  readonly idleMs: number;
  readonly functions: { name: string; where: string; ms: number; share: number }[];
  readonly areas: { area: string; ms: number; share: number }[];
}

function shortUrl(url: string): string {
  return url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '')
    .replace(/^.*\/dist\//, '');
}

/** Which part of the stack a script URL belongs to. */
export function areaOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native / V8 builtins)';
  const u = shortUrl(url);
  if (u.startsWith('node:')) {
    const m = /^node:internal\/([a-z_]+)/.exec(u);
    return `node:${m ? m[1] : u.slice(5).split('/')[0]}`;
  }
  const m = /^(@[^/]+\/[^/]+|[^/]+)\//.exec(u);
  if (!url.includes('/node_modules/')) {
    const folder = /^((?:src|engines|scripts)\/[^/]+)/.exec(u);
    return folder ? (folder[1] as string) : u;
  }
  return m ? (m[1] as string) : u;
}

/**
 * `window`: [from, to] in µs of CLOCK_MONOTONIC (process.hrtime in any
 * process on the machine; V8 stamps its samples with the same clock), to
 * keep only the samples of a workload and leave out start-up and loading.
 */
export function summarise(file: string, top = 25, window?: readonly [number, number]): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = p.startTime;
  let first = Infinity;
  let last = -Infinity;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (window !== undefined && (t < window[0] || t > window[1])) return;
    first = Math.min(first, t - dt);
    last = Math.max(last, t);
    self.set(id, (self.get(id) ?? 0) + dt);
  });
  const fns = new Map<string, { name: string; where: string; us: number }>();
  const areas = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (n === undefined) continue;
    total += us;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    const name = functionName === '' ? '(anonymous)' : functionName;
    const where = url === '' ? '' : `${shortUrl(url)}:${lineNumber + 1}`;
    const key = `${name} ${where}`;
    const f = fns.get(key) ?? { name, where, us: 0 };
    f.us += us;
    fns.set(key, f);
    const area = areaOf(url, name);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const busy = total - idle;
  return {
    wallMs: last > first ? (last - first) / 1000 : 0,
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    functions: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, share: f.us / busy })),
    areas: [...areas]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, us]) => ({ area, ms: us / 1000, share: us / busy })),
  };
}

export function profileMarkdown(title: string, s: ProfileSummary, perRequest?: { requests: number }): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const perReq = (ms: number) =>
    perRequest && perRequest.requests > 0 ? ((ms * 1000) / perRequest.requests).toFixed(1) : '';
  const lines = [
    `#### ${title}`,
    `busy ${Math.round(s.busyMs)} ms of ${Math.round(s.wallMs)} ms wall (main thread of the server)${perRequest ? `, ${perRequest.requests} requests → ${perReq(s.busyMs)} µs busy per request` : ''}`,
    '',
    '| area | self ms | share | µs/req |',
    '|---|---|---|---|',
    ...s.areas.slice(0, 12).map((a) => `| ${a.area} | ${Math.round(a.ms)} | ${pct(a.share)} | ${perReq(a.ms)} |`),
    '',
    '| function | where | self ms | share |',
    '|---|---|---|---|',
    ...s.functions.map((f) => `| ${f.name} | ${f.where} | ${Math.round(f.ms)} | ${pct(f.share)} |`),
  ];
  return lines.join('\n');
}

/** Who calls `name`: self time of its nodes by their chain of `depth` callers. */
export function callers(file: string, name: string, depth = 4): { chain: string; ms: number }[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile & { nodes: (ProfileNode & { children?: number[] })[] };
  const parent = new Map<number, ProfileNode>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const chains = new Map<string, number>();
  for (const n of p.nodes) {
    if (n.callFrame.functionName !== name) continue;
    const chain: string[] = [];
    for (let q = parent.get(n.id); q !== undefined && chain.length < depth; q = parent.get(q.id)) {
      chain.push(
        `${q.callFrame.functionName || '(anonymous)'} ${shortUrl(q.callFrame.url)}:${q.callFrame.lineNumber + 1}`,
      );
    }
    const key = chain.join(' ← ');
    chains.set(key, (chains.get(key) ?? 0) + (self.get(n.id) ?? 0));
  }
  return [...chains]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([chain, us]) => ({ chain, ms: us / 1000 }));
}

if (require.main === module) {
  const { values, positionals } = parseArgs({
    options: { top: { type: 'string', default: '25' }, callers: { type: 'string' } },
    allowPositionals: true,
  });
  const file = positionals[0];
  if (file === undefined) {
    process.stderr.write('usage: node dist/scripts/bench/profile.js FILE.cpuprofile [--top N] [--callers FUNCTION]\n');
    process.exit(2);
  }
  if (values.callers !== undefined) {
    for (const x of callers(file, values.callers)) process.stdout.write(`${Math.round(x.ms)} ms  ${x.chain}\n`);
    process.exit(0);
  }
  process.stdout.write(`${profileMarkdown(file, summarise(file, Number(values.top)))}\n`);
}
