/**
 * `npm run bench -- --profile`: for each workload, a fresh Lucien under
 * `node --cpu-prof`, the data loaded, the workload driven for a few
 * seconds, a graceful stop (which writes the profile), and a summary of the
 * server's main-thread self time. Engine hosts are not profiled (the server
 * starts them with fixed flags); their cost shows as waiting here and as
 * server-tree CPU in the main bench.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { drive, type Op } from './drive';
import { KV_BUCKET, KV_KEYS, KV_VALUE, loadBlogAndScripts, POST_KEY } from './fixtures';
import { encodeGet, encodeList, encodePut, encodeRun, LucienLean } from './lucien-client';
import { profileMarkdown, summarise } from './profile';
import { ROOT, startLucien } from './servers';
import { writeFileSync } from 'node:fs';

interface Workload {
  readonly concurrency: number;
  op(c: LucienLean): Op;
}

const run =
  (name: string, args: string) =>
  (c: LucienLean): Op => {
    const request = encodeRun(name, args);
    return () => c.runEncoded(request);
  };

const WORKLOADS: Record<string, Workload> = {
  get64: { concurrency: 64, op: (c) => (i) => c.getEncoded(encodeGet(KV_BUCKET, `k${i % KV_KEYS}`)) },
  get16: { concurrency: 16, op: (c) => (i) => c.getEncoded(encodeGet(KV_BUCKET, `k${i % KV_KEYS}`)) },
  get1: { concurrency: 1, op: (c) => (i) => c.getEncoded(encodeGet(KV_BUCKET, `k${i % KV_KEYS}`)) },
  put64: { concurrency: 64, op: (c) => (i) => c.putEncoded(encodePut(KV_BUCKET, `k${i % KV_KEYS}`, KV_VALUE)) },
  list64: { concurrency: 64, op: (c) => () => c.listEncoded(encodeList(KV_BUCKET, '', 100)) },
  list1: { concurrency: 1, op: (c) => () => c.listEncoded(encodeList(KV_BUCKET, '', 100)) },
  list16: { concurrency: 16, op: (c) => () => c.listEncoded(encodeList(KV_BUCKET, '', 100)) },
  put1: { concurrency: 1, op: (c) => (i) => c.putEncoded(encodePut(KV_BUCKET, `k${i % KV_KEYS}`, KV_VALUE)) },
  put16: { concurrency: 16, op: (c) => (i) => c.putEncoded(encodePut(KV_BUCKET, `k${i % KV_KEYS}`, KV_VALUE)) },
  'trivial-js1': { concurrency: 1, op: run('bench_trivial_js', '[]') },
  'trivial-py1': { concurrency: 1, op: run('bench_trivial_py', '[]') },
  'render-js16': { concurrency: 16, op: run('render_post_js', JSON.stringify([POST_KEY])) },
  'render-py16': { concurrency: 16, op: run('render_post_py', JSON.stringify([POST_KEY])) },
  'bridge-js1': { concurrency: 1, op: run('bench_bridge_js', '[200]') },
  'bridge-py1': { concurrency: 1, op: run('bench_bridge_py', '[200]') },
  'hot-js8': { concurrency: 8, op: run('bench_incr_js', '["hot"]') },
};

export async function profileRun(seconds: number, names: string): Promise<void> {
  const base = join(ROOT, 'bench-results', 'profiles');
  const report: string[] = [];
  for (const name of names.split(',')) {
    const w = WORKLOADS[name];
    if (w === undefined) throw new Error(`unknown workload ${name}; known: ${Object.keys(WORKLOADS).join(', ')}`);
    const dir = join(base, name);
    mkdirSync(dir, { recursive: true });
    const before = new Set(readdirSync(dir));
    const server = await startLucien({ nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
    const c = await LucienLean.connect(server.address);
    try {
      for (let i = 0; i < KV_KEYS; i++) await c.putEncoded(encodePut(KV_BUCKET, `k${i}`, KV_VALUE));
      await loadBlogAndScripts(c);
      await drive(w.op(c), w.concurrency, 1000); // warm-up, in the profile too but small
      const from = Number(process.hrtime.bigint() / 1000n);
      const s = await drive(w.op(c), w.concurrency, seconds * 1000);
      const to = Number(process.hrtime.bigint() / 1000n);
      process.stderr.write(`${name}: ${Math.round(s.rps)} req/s, p50 ${Math.round(s.p50us)} µs\n`);
      c.close();
      await server.stop();
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
      if (file === undefined) throw new Error(`no profile written in ${dir}`);
      report.push(
        profileMarkdown(
          `${name} (${w.concurrency} concurrent, ${Math.round(s.rps)} req/s, p50 ${Math.round(s.p50us)} µs) — ${join(dir, file)}`,
          summarise(join(dir, file), 25, [from, to]),
          { requests: s.ops },
        ),
      );
    } finally {
      c.close();
      await server.stop();
    }
  }
  const text = report.join('\n\n');
  writeFileSync(join(base, 'latest.md'), `${text}\n`);
  process.stdout.write(`${text}\n`);
}
