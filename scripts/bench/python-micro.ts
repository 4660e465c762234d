/**
 * The Python engine in this process, with no pipes and no server: compiles a
 * bench script, then runs it in a loop through the host's read cache (filled
 * by the first run, as on a warm host) and reports the engine's CPU per run.
 * This is the Python host's own cost per run, without the two pipe wake-ups
 * (scripts/bench/host-profile.ts measures those too). Run under
 * `node --cpu-prof` for a profile of just the engine.
 *
 *   node dist/scripts/bench/python-micro.js SCRIPT [ARGS_JSON] [--seconds 3] [--batches 7] [--sweep MIB]
 */
import { join } from 'node:path';
import { CachedBridge } from '../../engines/host/cached-bridge';
import type { HostBridge } from '../../engines/host/host-engine';
import { HostReadCache } from '../../engines/host/read-cache';
import { formatRead } from '../../engines/host/read-answer';
import type { BridgeCall } from '../../engines/protocol';
import { PythonEngine } from '../../engines/python/python-engine';
import { blogRows, KV_VALUE, SCRIPTS } from './fixtures';
import { ROOT } from './servers';

/** The bench's data: the seed's blog, and KV_VALUE under any other key. */
const DATA = new Map<string, string>();
for (const [bucket, key, json] of blogRows()) DATA.set(`${bucket}/${key}`, json);

/** The server's side of a cache miss: every key exists at revision 1. */
const upstream: HostBridge = {
  call(request) {
    const call = JSON.parse(request) as BridgeCall;
    if (call.op !== 'read') return 'vnull';
    return `v${formatRead(call.keys.map((k) => [1, DATA.get(`${call.bucket}/${k}`) ?? KV_VALUE] as const))}`;
  },
};

/**
 * Runs as the server's hosts see them: before each run, `mib` MiB of other
 * memory is written (as the server and other processes do between two runs
 * of a host), so the run starts with cold caches; the p50 of the runs alone.
 */
function coldRuns(runOnce: () => void, mib: number): string {
  const other = new Uint8Array(mib << 20);
  const times: number[] = [];
  for (let i = 0; i < 400; i++) {
    for (let j = 0; j < other.length; j += 64) other[j] = (other[j] as number) + 1;
    const t0 = performance.now();
    runOnce();
    times.push((performance.now() - t0) * 1000);
  }
  times.sort((a, b) => a - b);
  return `p50 ${(times[200] as number).toFixed(0)} µs per run with ${mib} MiB swept before each (cold caches)`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const positional = argv.filter((a, i) => !a.startsWith('--') && !(argv[i - 1] ?? '').startsWith('--'));
  const [scriptName = 'render_post_py', args = '["post_1"]'] = positional;
  const flag = (name: string, dflt: number): number => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const seconds = flag('--seconds', 3);
  const batches = flag('--batches', 7);
  const script = SCRIPTS.find((x) => x.name === scriptName && x.engine === 'python');
  if (script === undefined) throw new Error(`no Python bench script ${scriptName}`);
  const engine = await PythonEngine.load(join(ROOT, 'node_modules', 'pyodide') + '/');
  const compiled = engine.compile(script.name, script.source);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.error));
  const cache = new HostReadCache(8 << 20);
  const limits = { maxLogBytes: 1 << 20, maxResultBytes: 4 << 20 };
  const runOnce = (): void => {
    cache.advance(1, []);
    const bridge = new CachedBridge(cache, upstream, 1000);
    const out = engine.run(compiled.compiled, args, bridge, limits);
    if (!out.ok) throw new Error(JSON.stringify(out.error));
    bridge.readSet();
  };
  for (let i = 0; i < 2000; i++) runOnce();
  const sweep = flag('--sweep', 0);
  if (sweep > 0) {
    process.stdout.write(`${scriptName} ${args}: ${coldRuns(runOnce, sweep)}\n`);
    return;
  }
  const perBatch: number[] = [];
  const each = (seconds * 1000) / batches;
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let n = 0;
    while (performance.now() - t0 < each) {
      runOnce();
      n++;
    }
    const cpu = process.cpuUsage(cpu0);
    perBatch.push((cpu.user + cpu.system) / n);
  }
  perBatch.sort((a, b) => a - b);
  const fmt = (x: number): string => x.toFixed(1);
  process.stdout.write(
    `${scriptName} ${args}: CPU µs per run median ${fmt(perBatch[Math.floor(batches / 2)] as number)} (min ${fmt(perBatch[0] as number)}, max ${fmt(perBatch[batches - 1] as number)}) over ${batches} batches\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
