/**
 * CPU per Run through a real server, split between the server process and
 * its engine hosts (from /proc, 10 ms ticks: use a few thousand runs). Starts
 * its own Lucien (as the bench does), loads the seed's blog and the bench
 * scripts, then for each workload and concurrency runs a warm-up and then
 * `runs` Runs. Unlike host-profile.ts and python-micro.ts, this sees the
 * hosts as the server runs them: waking from a blocking read with caches
 * the server and everything else have since used.
 *
 *   node dist/scripts/bench/run-cpu.js [RUNS]
 */
import { loadBlogAndScripts, POST_KEY } from './fixtures';
import { encodeRun, LucienLean } from './lucien-client';
import { readFileSync } from 'node:fs';
import { treeCpuSeconds } from './proc';
import { startLucien } from './servers';

const WORKLOADS: readonly [string, string][] = [
  ['bench_trivial_py', '[]'],
  ['render_post_py', JSON.stringify([POST_KEY])],
  ['render_post_many_py', JSON.stringify([POST_KEY])],
  ['bench_trivial_js', '[]'],
  ['render_post_js', JSON.stringify([POST_KEY])],
];

/** CPU seconds (user + system) of one process, without its children. */
function ownCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 3000);
  const server = await startLucien();
  const client = await LucienLean.connect(server.address);
  try {
    await loadBlogAndScripts(client);
    process.stdout.write(
      '| workload | conc. | req/s | server CPU µs/run | engine hosts CPU µs/run |\n|---|---|---|---|---|\n',
    );
    for (const [name, args] of WORKLOADS) {
      const request = encodeRun(name, args);
      for (const concurrency of [1, 16]) {
        for (let i = 0; i < 300; i++) await client.runEncoded(request);
        const all0 = treeCpuSeconds(server.pid);
        const own0 = ownCpuSeconds(server.pid);
        const t0 = performance.now();
        let left = runs;
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (left-- > 0) await client.runEncoded(request);
          }),
        );
        const seconds = (performance.now() - t0) / 1000;
        const serverUs = ((ownCpuSeconds(server.pid) - own0) * 1e6) / runs;
        const hostsUs = ((treeCpuSeconds(server.pid) - all0) * 1e6) / runs - serverUs;
        process.stdout.write(
          `| ${name} | ${concurrency} | ${Math.round(runs / seconds)} | ${serverUs.toFixed(0)} | ${hostsUs.toFixed(0)} |\n`,
        );
      }
    }
  } finally {
    client.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
