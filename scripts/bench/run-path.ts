/**
 * The run path alone, in process: the server's runner, pool and engine hosts
 * on a fresh LevelDB (the default configuration, confinement included), with
 * no gRPC in front, driven by closed-loop workers calling ScriptRunner.run.
 * Shows what a run costs the server's own code: the main thread's CPU per
 * run (this process), the hosts' CPU, and latency at concurrency 1 and 16.
 * Cells alternate over repetitions, as in the main bench.
 *
 *   node dist/scripts/bench/run-path.js [--reps 3] [--duration 1000] [--cells trivial-js1,render-js16,…]
 *   node --cpu-prof dist/scripts/bench/run-path.js --cells trivial-js1   (this process's profile)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { engineOptions, runnerLimits } from '../../src/app';
import { parseConfig } from '../../src/config';
import { silentLogger } from '../../src/log';
import { ScriptCatalog } from '../../src/procedures/catalog';
import { networkWrapper } from '../../src/procedures/confinement';
import { InvalidationFeed } from '../../src/procedures/invalidation-feed';
import { createEngines } from '../../src/procedures/languages';
import { ScriptRunner } from '../../src/procedures/runner';
import { createBackend } from '../../src/storage/open';
import { Store } from '../../src/storage/store';
import { drive } from './drive';
import { blogRows, POST_KEY, SCRIPTS } from './fixtures';
import { treeCpuSeconds } from './proc';
import { fmt, spread } from './stats';

const { values: argv } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    duration: { type: 'string', default: '1000' },
    cells: { type: 'string', default: 'trivial-js1,trivial-py1,render-js1,render-js16,render-py16' },
    /** Wait this long (a timer: the process goes idle) after each run, as a remote client's turnaround would. */
    'gap-ms': { type: 'string', default: '0' },
  },
  strict: true,
});

const CELLS: Record<string, { script: string; args: string; concurrency: number }> = {
  'trivial-js1': { script: 'bench_trivial_js', args: '[]', concurrency: 1 },
  'trivial-py1': { script: 'bench_trivial_py', args: '[]', concurrency: 1 },
  'render-js1': { script: 'render_post_js', args: JSON.stringify([POST_KEY]), concurrency: 1 },
  'render-py1': { script: 'render_post_py', args: JSON.stringify([POST_KEY]), concurrency: 1 },
  'many-js1': { script: 'render_post_many_js', args: JSON.stringify([POST_KEY]), concurrency: 1 },
  'many-py1': { script: 'render_post_many_py', args: JSON.stringify([POST_KEY]), concurrency: 1 },
  'render-js16': { script: 'render_post_js', args: JSON.stringify([POST_KEY]), concurrency: 16 },
  'render-py16': { script: 'render_post_py', args: JSON.stringify([POST_KEY]), concurrency: 16 },
  'trivial-js16': { script: 'bench_trivial_js', args: '[]', concurrency: 16 },
  'incr-js8': { script: 'bench_incr_js', args: '["hot"]', concurrency: 8 },
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lucien-run-path-'));
  const config = parseConfig(['--data-dir', dir], {});
  const backend = createBackend(config);
  await backend.open();
  const store = new Store(backend, { maxKeyBytes: config.maxKeyBytes, maxValueBytes: config.maxValueBytes });
  const wrapper = await networkWrapper(silentLogger, config.engineNamespaces);
  const engines = createEngines(engineOptions(config, wrapper), silentLogger);
  const catalog = new ScriptCatalog(store, engines, config.maxScriptBytes);
  const feed = await InvalidationFeed.start(store.space);
  const runner = new ScriptRunner(store, catalog, engines, runnerLimits(config), undefined, undefined, feed);
  try {
    await engines.warm();
    for (const name of engines.names)
      await (engines.get(name) as { whenComplete?: () => Promise<void> }).whenComplete?.();
    await store.space.commit(
      blogRows().map(([bucket, key, value]) => ({ type: 'put', bucket, key, value })),
      [],
    );
    for (const s of SCRIPTS) await catalog.put({ name: s.name, engine: s.engine, source: s.source, description: '' });
    const names = (argv.cells as string).split(',');
    const results = new Map<string, { rps: number[]; p50: number[]; mainUs: number[]; treeUs: number[] }>();
    const reps = Number(argv.reps);
    for (let rep = 0; rep < reps; rep++) {
      const order = rep % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        const cell = CELLS[name];
        if (cell === undefined) throw new Error(`unknown cell ${name}; known: ${Object.keys(CELLS).join(', ')}`);
        const gapMs = Number(argv['gap-ms']);
        const op = async () => {
          await runner.run({ name: cell.script, args: cell.args, dryRun: false, timeoutMs: 0 }, silentLogger);
          if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
        };
        await drive(op, cell.concurrency, 200);
        const tree0 = treeCpuSeconds(process.pid);
        const s = await drive(op, cell.concurrency, Number(argv.duration));
        const tree = treeCpuSeconds(process.pid) - tree0;
        if (s.errors > 0) throw new Error(`${name}: ${s.firstError}`);
        const r = results.get(name) ?? { rps: [], p50: [], mainUs: [], treeUs: [] };
        r.rps.push(s.rps);
        r.p50.push(s.p50us);
        r.mainUs.push(s.clientCpuUs);
        r.treeUs.push((tree * 1e6) / s.ops);
        results.set(name, r);
      }
    }
    process.stdout.write(
      '| cell | req/s | p50 µs | this process CPU µs/run | tree CPU µs/run |\n|---|---|---|---|---|\n',
    );
    for (const [name, r] of results)
      process.stdout.write(
        `| ${name} | ${fmt(spread(r.rps))} | ${fmt(spread(r.p50))} | ${fmt(spread(r.mainUs))} | ${fmt(spread(r.treeUs))} |\n`,
      );
  } finally {
    catalog.close();
    feed.close();
    await engines.close();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
