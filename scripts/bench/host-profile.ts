/**
 * Profiles one engine host on its own: spawns it with the server's own flags
 * (the engine's HostSpec) plus --cpu-prof, compiles a bench script, runs it
 * in a loop answering its bridge calls with fixed values (no storage, no
 * gRPC), then closes the pipe so the host exits and writes its profile. This
 * isolates the host's per-run and per-bridge-call cost, which the server's
 * profile only shows as waiting.
 *
 *   node dist/scripts/bench/host-profile.js python|javascript SCRIPT [ARGS_JSON] [--seconds 5]
 *   e.g. node dist/scripts/bench/host-profile.js python bench_bridge_py '[200]'
 *   --startup also summarises the start-up (spawn to ready).
 *   --cache syncs the host's read cache on every run (one revision, nothing
 *   changes), as the server does: reads after the first run are cache hits.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { javascriptHostSpec } from '../../engines/javascript/spec';
import { encodeFrame, FrameDecoder } from '../../engines/frame';
import { hostArgs } from '../../engines/host-spec';
import { type BridgeCall, type CallMessage, type FromHost, MAX_FRAME_BYTES, type ToHost } from '../../engines/protocol';
import { pythonHostSpec } from '../../engines/python/spec';
import { formatRead } from '../../engines/host/read-answer';
import { blogRows, KV_VALUE, SCRIPTS } from './fixtures';
import { treeCpuSeconds } from './proc';
import { profileMarkdown, summarise } from './profile';
import { ROOT } from './servers';

const DIST = join(ROOT, 'dist');

type Incoming = FromHost | CallMessage;

/** The server's side of the frames (engines/protocol.ts), minimal. */
class Host {
  private readonly decoder = new FrameDecoder(MAX_FRAME_BYTES);
  private waiting: ((m: Incoming) => void) | undefined;
  private queued: Incoming[] = [];
  constructor(
    private readonly out: Writable,
    inp: Readable,
  ) {
    inp.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk);
      for (let frame = this.decoder.next(); frame !== undefined; frame = this.decoder.next()) {
        const body = frame.toString('utf8');
        const m: Incoming = body[0] === 'c' ? { t: 'call', request: body.slice(1) } : (JSON.parse(body) as FromHost);
        const w = this.waiting;
        this.waiting = undefined;
        if (w) w(m);
        else this.queued.push(m);
      }
    });
  }
  send(m: ToHost): void {
    this.write(JSON.stringify(m));
  }
  write(body: string): void {
    this.out.write(encodeFrame(body, MAX_FRAME_BYTES));
  }
  next(): Promise<Incoming> {
    const q = this.queued.shift();
    if (q) return Promise.resolve(q);
    return new Promise((resolve) => (this.waiting = resolve));
  }
  close(): void {
    this.out.end();
  }
}

/** The bench's data: the seed's blog (render_post reads 21 values), and KV_VALUE under any other key. */
const DATA = new Map<string, string>();
for (const [bucket, key, json] of blogRows()) DATA.set(`${bucket}/${key}`, json);

function answer(message: Incoming): string {
  if (message.t !== 'call') throw new Error(`unexpected ${message.t}`);
  const call = JSON.parse(message.request) as BridgeCall;
  const doc = (key: string): string => DATA.get(`${call.bucket}/${key}`) ?? KV_VALUE;
  switch (call.op) {
    case 'get':
      return doc(call.key);
    case 'getMany':
      return `[${call.keys.map(doc).join(',')}]`;
    case 'read':
      return formatRead(call.keys.map((k) => [1, doc(k)] as const));
    case 'list':
      return '[]';
    default:
      return 'null';
  }
}

async function main(): Promise<void> {
  const [engine, scriptName, args = '[]'] = process.argv.slice(2);
  const s = process.argv.indexOf('--seconds');
  const seconds = s > 0 ? Number(process.argv[s + 1]) : 5;
  const script = SCRIPTS.find((x) => x.name === scriptName);
  if ((engine !== 'python' && engine !== 'javascript') || script === undefined) {
    process.stderr.write(
      `usage: host-profile.js python|javascript SCRIPT [ARGS] [--seconds N]; scripts: ${SCRIPTS.map((x) => x.name).join(', ')}\n`,
    );
    process.exit(2);
  }
  const spec = engine === 'python' ? pythonHostSpec(DIST, join(ROOT, 'node_modules')) : javascriptHostSpec(DIST);
  const dir = join(ROOT, 'bench-results', 'profiles', `host-${scriptName}`);
  mkdirSync(dir, { recursive: true });
  const before = new Set(readdirSync(dir));
  // The server's own flags but the permission model (V8 cannot write the
  // profile under it; fd reads and writes, all a run does, are not checked by it anyway).
  const flags = hostArgs(spec).filter((f) => f !== '--experimental-permission' && !f.startsWith('--allow-fs-read='));
  const entry = flags.pop() as string;
  const pyodide = spec.readPaths.find((p) => /\/pyodide\/?$/.test(p));
  const child = spawn(
    process.execPath,
    [
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
      ...flags,
      join(__dirname, 'host-entry.js'),
      entry,
      ...(pyodide ? [pyodide] : []),
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'pipe', 'pipe'], env: {} },
  );
  const host = new Host(child.stdio[3] as Writable, child.stdio[4] as Readable);
  const exited = new Promise((r) => child.on('exit', r));
  const spawned = performance.now();
  const spawnedUs = Number(process.hrtime.bigint() / 1000n);
  const ready = await host.next();
  if (ready.t !== 'ready') throw new Error('host not ready');
  const readyMs = performance.now() - spawned;
  const readyUs = Number(process.hrtime.bigint() / 1000n);
  host.send({ t: 'compile', id: 1, name: script.name, source: script.source, key: 'k1' });
  const compiled = await host.next();
  if (compiled.t !== 'compiled' || !compiled.ok) throw new Error(`compile failed: ${JSON.stringify(compiled)}`);
  let id = 2;
  const cache = process.argv.includes('--cache')
    ? { revision: 1, changed: [], reset: false, maxReadBatch: 1000, maxBytes: 8 << 20 }
    : undefined;
  const runOnce = async () => {
    host.send({
      t: 'run',
      id: id++,
      key: 'k1',
      name: script.name,
      args,
      limits: { maxLogBytes: 1 << 20, maxResultBytes: 4 << 20 },
      cache,
    });
    for (;;) {
      const m = await host.next();
      if (m.t === 'done') {
        if (!m.ok) throw new Error(`run failed: ${JSON.stringify(m.error)}`);
        return;
      }
      host.write(`v${answer(m)}`);
    }
  };
  for (let i = 0; i < 50; i++) await runOnce();
  const from = Number(process.hrtime.bigint() / 1000n);
  const cpuFrom = treeCpuSeconds(child.pid as number);
  const t0 = performance.now();
  let runs = 0;
  const lat: number[] = [];
  while (performance.now() - t0 < seconds * 1000) {
    const t = performance.now();
    await runOnce();
    lat.push((performance.now() - t) * 1000);
    runs++;
  }
  const to = Number(process.hrtime.bigint() / 1000n);
  const hostCpu = ((treeCpuSeconds(child.pid as number) - cpuFrom) * 1e6) / runs;
  lat.sort((a, b) => a - b);
  host.close();
  await exited;
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
  if (file === undefined) throw new Error(`the host wrote no profile in ${dir}`);
  const p50 = lat[Math.floor(lat.length / 2)] ?? NaN;
  if (process.argv.includes('--startup')) {
    process.stdout.write(
      `${profileMarkdown(`${engine} host start-up: ready ${Math.round(readyMs)} ms after spawn`, summarise(join(dir, file), 30, [spawnedUs, readyUs]))}\n\n`,
    );
  }
  process.stdout.write(
    `${profileMarkdown(`${engine} host (ready ${Math.round(readyMs)} ms after spawn), ${scriptName} ${args}: ${runs} runs, p50 ${Math.round(p50)} µs per run, host CPU ${hostCpu.toFixed(1)} µs per run (bridge answered instantly${cache ? ', read cache on' : ''}) — ${join(dir, file)}`, summarise(join(dir, file), 30, [from, to]), { requests: runs })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
