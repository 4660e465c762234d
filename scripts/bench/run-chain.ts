/**
 * A trivial Run at concurrency 1, stage by stage, beside a Get: starts a
 * server with chain-stamps.ts preloaded, runs Get, `result = 1` in
 * JavaScript and in Python one after another in alternating blocks, stamping
 * each call's send and answer here, on the monotonic clock the server shares.
 * Then it prints the median of each stage per kind (µs). Where the time of a
 * Run goes that a Get does not pay: the dispatch, the host (inside the pipe
 * write when it runs on the server's vCPU), the answer's way back, the
 * response's hand-off and flush, and the wire both ways.
 *
 *   node dist/scripts/bench/run-chain.js [--reps 4] [--duration 1000]
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { launchServer } from '../lib/server-process';
import { type ChainStamps, chainFile } from './chain-stamps';
import { encodeGet, encodeRun, LucienLean } from './lucien-client';

const { values: argv } = parseArgs({
  options: { reps: { type: 'string', default: '4' }, duration: { type: 'string', default: '1000' } },
  strict: true,
});

const KINDS = {
  get: { label: 'Get', server: 'Get' },
  js: { label: 'Run `result = 1` (JavaScript)', server: 'chain_trivial_js' },
  py: { label: 'Run `result = 1` (Python)', server: 'chain_trivial_py' },
} as const;
type Kind = keyof typeof KINDS;

/** One call as the client saw it: µs on the monotonic clock. */
interface Sent {
  readonly kind: Kind;
  readonly sent: number;
  readonly answered: number;
  /** False for the warm-up calls before each block (sent, so the server's stamps line up, then left out). */
  readonly measured: boolean;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e3;

/** [label, from, to]: each stage between two stamps (client stamps: sent, answered). */
const STAGES: readonly [string, string, string][] = [
  ['client send → handler starts', 'sent', 'a'],
  ['handler → run message written', 'a', 'w0'],
  ['run message write (the host may run inside it)', 'w0', 'w1'],
  ['write returned → host answer arrives', 'w1', 'd'],
  ['host answer → response handed to grpc-js', 'd', 'cb0'],
  ['handler → response handed to grpc-js', 'a', 'cb0'],
  ['grpc-js takes the response', 'cb0', 'cb1'],
  ['→ check phase (HTTP/2 flush)', 'cb1', 'imm'],
  ['check phase → client has the answer', 'imm', 'answered'],
  ['end to end', 'sent', 'answered'],
];

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  values.sort((x, y) => x - y);
  return values[values.length >> 1];
}

async function main(): Promise<void> {
  const reps = Number(argv.reps);
  const durationMs = Number(argv.duration);
  const server = await launchServer({
    nodeFlags: ['-r', join(__dirname, 'chain-stamps.js')],
    args: ['--log-level', 'info'],
    enginePool: 'server',
    startTimeoutMs: 120_000,
  });
  const pid = server.process.pid as number;
  const sent: Sent[] = [];
  try {
    const client = await LucienLean.connect(server.address);
    await client.putScript(KINDS.js.server, 'javascript', 'result = 1;\n');
    await client.putScript(KINDS.py.server, 'python', 'result = 1\n');
    await client.put('chain', 'k', '{"a":1}');
    const requests: Record<Kind, () => Promise<unknown>> = {
      get: () => client.getEncoded(encodeGet('chain', 'k')),
      js: () => client.runEncoded(encodeRun(KINDS.js.server, '[]')),
      py: () => client.runEncoded(encodeRun(KINDS.py.server, '[]')),
    };
    for (let rep = 0; rep < reps; rep++) {
      const order: Kind[] = rep % 2 === 0 ? ['get', 'js', 'py'] : ['py', 'js', 'get'];
      for (const kind of order) {
        const warmUntil = performance.now() + 150;
        const end = warmUntil + durationMs;
        for (let t = performance.now(); t < end; t = performance.now()) {
          const at = now();
          await requests[kind]();
          sent.push({ kind, sent: at, answered: now(), measured: t >= warmUntil });
        }
      }
    }
    client.close();
  } finally {
    await server.stop();
    server.cleanup();
  }
  const file = chainFile(pid);
  const stamps = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ChainStamps);
  rmSync(file, { force: true });
  // One call at a time: the server saw the measured calls in the order they were sent, last of all.
  const seen = stamps.filter((s) => Object.values(KINDS).some((k) => k.server === s.m)).slice(-sent.length);
  if (seen.length !== sent.length || seen.some((s, i) => s.m !== KINDS[(sent[i] as Sent).kind].server))
    throw new Error('the server saw other calls than the ones sent');
  const kinds = Object.keys(KINDS) as Kind[];
  process.stdout.write(`| stage (median µs) | ${kinds.map((k) => KINDS[k].label).join(' | ')} |\n`);
  process.stdout.write(`|---|${kinds.map(() => '---').join('|')}|\n`);
  for (const [label, from, to] of STAGES) {
    const cells = kinds.map((kind) => {
      const spans: number[] = [];
      sent.forEach((call, i) => {
        if (call.kind !== kind || !call.measured) return;
        const at = { ...call, ...seen[i] } as unknown as Record<string, number | undefined>;
        const [x, y] = [at[from], at[to]];
        if (x !== undefined && y !== undefined) spans.push(y - x);
      });
      const m = median(spans);
      return m === undefined ? '–' : m.toFixed(0);
    });
    process.stdout.write(`| ${label} | ${cells.join(' | ')} |\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
