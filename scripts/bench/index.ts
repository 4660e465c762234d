/**
 * The benchmark suite (`npm run bench`): starts its own Lucien on a fresh
 * LevelDB directory with the default engine pool, the bare grpc-js echo
 * server, and etcd and Redis when installed; loads data; measures every
 * group of cells side by side with warm-up and repetitions; prints the
 * tables and writes bench-results/bench-<time>.json (and latest.json).
 *
 *   npm run bench -- [--duration 1000] [--reps 5] [--warmup 300] [--starts 3]
 *                    [--only kv,scripts,bridge,client,etcd] [--no-peers] [--quick]
 *   npm run bench -- --only hot   only the hot-key cells of the scripts group
 *   npm run bench -- --only metrics   metrics on vs off, same run (metrics-overhead.ts)
 *   npm run bench -- --profile [--profile-seconds 8] [--profile-workloads get64,render-js16,…]
 *       one profiled server per workload, main-thread self time (profile-run.ts)
 *   node dist/scripts/bench/host-profile.js python bench_bridge_py '[200]'
 *       one engine host alone under --cpu-prof (host-profile.ts)
 */
import * as grpc from '@grpc/grpc-js';
import { ClassicLevel } from 'classic-level';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import type { LucienClient } from '../../src/generated/lucien/v1/Lucien';
import { proto } from '../../src/server/proto';
import {
  batchRender,
  BRIDGE_CALLS,
  type Cell,
  type Clients,
  clientGroup,
  etcdBackendGroups,
  type Group,
  keyValueGroups,
  LEVELS,
  naiveRender,
  scriptGroups,
} from './cells';
import { EtcdLean, encodeEtcdPut } from './etcd-client';
import {
  blogRows,
  KV_BUCKET,
  KV_KEYS,
  KV_VALUE,
  loadBlogAndScripts,
  POST_KEY,
  RENDER_POST_LUA,
  SCRIPTS,
} from './fixtures';
import { encodePut, LucienLean } from './lucien-client';
import { PingPong, type PingPongDb } from './pingpong';
import { treeCpuSeconds, treeMemory, type TreeMemory } from './proc';
import { metricsOverhead } from './metrics-overhead';
import { profileRun } from './profile-run';
import { chartSvg } from './chart';
import { type CellResult, type Lifecycle, markdown, targets } from './report';
import { Resp } from './resp';
import { ROOT, type Running, startEcho, startEtcd, startLucien, startRedis } from './servers';

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    reps: { type: 'string' },
    warmup: { type: 'string' },
    starts: { type: 'string' },
    only: { type: 'string', default: 'kv,scripts,bridge,client,etcd' },
    'no-peers': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'profile-seconds': { type: 'string', default: '8' },
    'profile-workloads': { type: 'string', default: 'get64,render-js16,render-py16,trivial-js1' },
  },
  strict: true,
});

const quick = argv.quick === true;
const settings = {
  durationMs: Number(argv.duration ?? (quick ? '300' : '1000')),
  reps: Number(argv.reps ?? (quick ? '2' : '5')),
  warmupMs: Number(argv.warmup ?? (quick ? '150' : '300')),
  starts: Number(argv.starts ?? (quick ? '1' : '3')),
  only: (argv.only as string).split(','),
  peers: argv['no-peers'] !== true,
};

const log = (text: string) => process.stderr.write(`${text}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function inBatches<T>(items: readonly T[], size: number, f: (t: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(f));
}

async function loadData(c: Clients): Promise<void> {
  const keys = Array.from({ length: KV_KEYS }, (_, i) => i);
  await inBatches(keys, 64, (i) => c.lucien.putEncoded(encodePut(KV_BUCKET, `k${i}`, KV_VALUE)));
  await loadBlogAndScripts(c.lucien);
  const { etcd, redis, lucienEtcd } = c;
  if (etcd !== undefined) {
    await inBatches(keys, 64, (i) => etcd.putEncoded(encodeEtcdPut(`${KV_BUCKET}/k${i}`, KV_VALUE)));
    // The direct increments' keys must exist (see EtcdLean.increment).
    for (let w = 0; w < 64; w++) await etcd.putEncoded(encodeEtcdPut(`counters/etcd_${w}`, '{"n":0}'));
  }
  if (lucienEtcd !== undefined) {
    await inBatches(keys, 64, (i) => lucienEtcd.putEncoded(encodePut(KV_BUCKET, `k${i}`, KV_VALUE)));
    for (const s of SCRIPTS) await lucienEtcd.putScript(s.name, s.engine, s.source);
  }
  if (redis !== undefined) {
    for (const [bucket, key, json] of blogRows()) await redis.command(['SET', `${bucket}:${key}`, json]);
  }
}

/** Every variant of the render must give the naive client's answer before anything is timed. */
async function verify(c: Clients): Promise<void> {
  const expected = await naiveRender(c.lucien);
  const check = (what: string, got: unknown) => {
    if (!isDeepStrictEqual(got, expected))
      throw new Error(`${what} renders differently:\n${JSON.stringify(got)}\nexpected\n${JSON.stringify(expected)}`);
  };
  check('batching client', await batchRender(c.lucien));
  for (const name of ['render_post_py', 'render_post_js', 'render_post_many_py', 'render_post_many_js']) {
    check(name, JSON.parse(await c.lucien.run(name, JSON.stringify([POST_KEY]))));
  }
  if (c.redis !== undefined && c.redisRenderSha !== undefined)
    check('redis Lua', JSON.parse((await c.redis.command(['EVALSHA', c.redisRenderSha, '0', POST_KEY])) as string));
  for (const e of ['js', 'py']) {
    if ((await c.lucien.run(`bench_trivial_${e}`, '[]')) !== '1')
      throw new Error(`bench_trivial_${e} did not return 1`);
    if ((await c.lucien.run(`bench_bridge_${e}`, '[3]')) !== '1') throw new Error(`bench_bridge_${e} did not return 1`);
    if (!/^\d+$/.test(await c.lucien.run(`bench_incr_${e}`, '["probe"]')))
      throw new Error(`bench_incr_${e} did not count`);
  }
}

function pidOf(cell: Cell, servers: Record<string, Running | undefined>, pingPong: PingPong): number | undefined {
  if (cell.system === 'pipe') return pingPong.pid;
  return servers[cell.system]?.pid;
}

async function runGroups(
  groups: Group[],
  servers: Record<string, Running | undefined>,
  c: Clients,
  lucienPid: number,
): Promise<{ results: Map<string, CellResult>; peak: TreeMemory | undefined }> {
  const results = new Map<string, CellResult>();
  let peak: TreeMemory | undefined;
  for (const group of groups) {
    log(`\n== ${group.name}: ${group.cells.length} cells × ${settings.reps} reps × ${settings.durationMs} ms`);
    for (const cell of group.cells) {
      results.set(cell.id, {
        id: cell.id,
        label: cell.label,
        system: cell.system,
        concurrency: cell.concurrency,
        samples: [],
        serverCpuUs: [],
      });
      const w = await cell.run(settings.warmupMs);
      if (w.errors > 0) log(`   warm-up ${cell.id}: ${w.errors} errors, first: ${w.firstError}`);
    }
    const sampler = group.sampleMemory
      ? setInterval(() => {
          const m = treeMemory(lucienPid);
          if (peak === undefined || m.rssMb > peak.rssMb) peak = m;
        }, 500)
      : undefined;
    for (let rep = 0; rep < settings.reps; rep++) {
      const order = rep % 2 === 0 ? group.cells : [...group.cells].reverse();
      for (const cell of order) {
        const pid = pidOf(cell, servers, c.pingPong);
        const cpu0 = pid === undefined ? 0 : treeCpuSeconds(pid);
        const s = await cell.run(settings.durationMs);
        const cpu = pid === undefined ? NaN : treeCpuSeconds(pid) - cpu0;
        const r = results.get(cell.id) as CellResult;
        r.samples.push(s);
        r.serverCpuUs.push(s.ops > 0 ? (cpu * 1e6) / s.ops : NaN);
        if (s.errors > 0) log(`   ${cell.id}: ${s.errors} errors, first: ${s.firstError}`);
        log(
          `   rep ${rep + 1} ${cell.id.padEnd(14)} ${Math.round(s.rps).toString().padStart(6)} req/s  p50 ${Math.round(s.p50us).toString().padStart(6)} µs  p99 ${Math.round(s.p99us).toString().padStart(6)} µs`,
        );
      }
    }
    if (sampler) clearInterval(sampler);
  }
  return { results, peak };
}

function machine(): string {
  const c = cpus();
  const [l1, l5, l15] = loadavg().map((v) => v.toFixed(2));
  return `${c.length} × ${c[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, ${osType()} ${release()}, Node ${process.version}; load average at start ${l1} / ${l5} / ${l15}`;
}

async function main(): Promise<void> {
  if (argv.profile === true) return profileRun(Number(argv['profile-seconds']), argv['profile-workloads'] as string);
  const machineAtStart = machine();
  log(`machine: ${machineAtStart}`);
  if (settings.only.includes('metrics')) {
    process.stdout.write(`\n${await metricsOverhead(settings, log)}\n`);
    if (settings.only.length === 1) return;
  }
  log('starting Lucien (default engine pool)…');
  const lucien = await startLucien();
  log(`  serving at ${lucien.address} after ${Math.round(lucien.startMs)} ms`);
  await sleep(1000);
  const idle = treeMemory(lucien.pid);
  const servers: Record<string, Running | undefined> = { lucien };
  const stops: (() => Promise<void>)[] = [() => lucien.stop()];
  let pingPong: PingPong | undefined;
  let floorDb: ClassicLevel<string, string> | undefined;
  let floorDir: string | undefined;
  let clients: Clients | undefined;
  try {
    servers.echo = await startEcho(JSON.stringify(KV_VALUE));
    stops.push(() => (servers.echo as Running).stop());
    if (settings.peers) {
      for (const [name, start] of [
        ['etcd', startEtcd],
        ['redis', startRedis],
      ] as const) {
        try {
          const s = await start();
          if (s === undefined) log(`  ${name} is not installed: its columns stay empty (see scripts/bench/setup.sh)`);
          else {
            servers[name] = s;
            stops.push(() => s.stop());
            log(`  ${name} at ${s.address}`);
          }
        } catch (err) {
          log(`  ${name} failed to start: ${(err as Error).message}`);
        }
      }
    }
    // A second Lucien, on the etcd peer, for Lucien-on-etcd ÷ etcd direct.
    if (settings.only.includes('etcd') && servers.etcd !== undefined) {
      const onEtcd = await startLucien({ args: ['--backend', 'etcd', '--etcd-endpoints', servers.etcd.address] });
      servers['lucien-etcd'] = onEtcd;
      stops.push(() => onEtcd.stop());
      log(`  Lucien on etcd at ${onEtcd.address}`);
    }
    // The ping-pong's own LevelDB, with the server's record layout, for the read variants.
    floorDir = mkdtempSync(join(tmpdir(), 'lucien-bench-floor-'));
    floorDb = new ClassicLevel<string, string>(floorDir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await floorDb.open();
    await floorDb.batch(
      Array.from({ length: KV_KEYS }, (_, i) => ({
        type: 'put' as const,
        key: `d${KV_BUCKET}/k${i}`,
        value: `1,1,${KV_VALUE}`,
      })),
    );
    pingPong = new PingPong(KV_VALUE, floorDb as unknown as PingPongDb);
    const redis = servers.redis ? await Resp.connect(servers.redis.port) : undefined;
    clients = {
      lucien: await LucienLean.connect(lucien.address),
      echo: servers.echo ? await LucienLean.connect(servers.echo.address) : undefined,
      etcd: servers.etcd ? await EtcdLean.connect(servers.etcd.address) : undefined,
      lucienEtcd: servers['lucien-etcd'] ? await LucienLean.connect(servers['lucien-etcd'].address) : undefined,
      redis,
      redisRenderSha: redis ? ((await redis.command(['SCRIPT', 'LOAD', RENDER_POST_LUA])) as string) : undefined,
      grpcJs: new proto.lucien.v1.Lucien(lucien.address, grpc.credentials.createInsecure()) as LucienClient,
      pingPong,
    };
    log('loading data and scripts…');
    await loadData(clients);
    await verify(clients);

    const groups: Group[] = [];
    if (settings.only.includes('kv')) groups.push(...keyValueGroups(clients));
    const [latency, throughput, hot, bridge] = scriptGroups(clients) as [Group, Group, Group, Group];
    if (settings.only.includes('scripts')) groups.push(latency, throughput, hot);
    else if (settings.only.includes('hot')) groups.push(hot);
    if (settings.only.includes('bridge')) groups.push(bridge);
    if (settings.only.includes('client')) groups.push(...clientGroup(clients));
    if (settings.only.includes('etcd')) groups.push(...etcdBackendGroups(clients));
    const { results, peak } = await runGroups(groups, servers, clients, lucien.pid);
    await sleep(2000);
    const idleAfterLoad = treeMemory(lucien.pid);

    for (const c of [clients.lucien, clients.echo, clients.etcd, clients.redis, clients.lucienEtcd]) c?.close();
    clients.grpcJs?.close();
    pingPong.close();
    for (const stop of stops.reverse()) await stop();
    stops.length = 0;

    const startMs = [lucien.startMs];
    const poolCompleteMs = [lucien.poolCompleteMs];
    const reported = lucien.reportedStartupMs === undefined ? [] : [lucien.reportedStartupMs];
    const engineWarmMs: Record<string, number[]> = {};
    const addWarm = (w: Record<string, number>) => {
      for (const [engine, ms] of Object.entries(w)) (engineWarmMs[engine] ??= []).push(ms);
    };
    addWarm(lucien.engineWarmMs);
    for (let i = 1; i < settings.starts; i++) {
      const s = await startLucien();
      startMs.push(s.startMs);
      poolCompleteMs.push(s.poolCompleteMs);
      if (s.reportedStartupMs !== undefined) reported.push(s.reportedStartupMs);
      addWarm(s.engineWarmMs);
      log(`cold start ${i + 1}: ${Math.round(s.startMs)} ms`);
      await s.stop();
    }
    const life: Lifecycle = {
      startMs,
      poolCompleteMs,
      reportedStartupMs: reported,
      engineWarmMs,
      idle,
      idleAfterLoad,
      underLoad: peak,
      enginePool: 'default (2 hosts per language)',
    };
    const machineText = `${machineAtStart}; at end ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' / ')}`;
    const settingsText = `${settings.reps} repetitions × ${settings.durationMs} ms per cell after ${settings.warmupMs} ms warm-up; one HTTP/2 connection per server from a lean client; LevelDB on ${lucien.dataDir.startsWith('/tmp') ? '/tmp' : 'disk'}, etcd data on tmpfs`;
    const input = { results, life, calls: BRIDGE_CALLS, levels: LEVELS, machine: machineText, settings: settingsText };
    const ts = targets(results, life, BRIDGE_CALLS);
    const table = markdown(input, ts);
    process.stdout.write(`\n${table}\n`);
    const dir = join(ROOT, 'bench-results');
    mkdirSync(dir, { recursive: true });
    const json = JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: machineText,
        settings,
        targets: ts,
        lifecycle: life,
        results: [...results.values()],
        table,
      },
      null,
      2,
    );
    const file = join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, json);
    writeFileSync(join(dir, 'latest.json'), json);
    writeFileSync(join(dir, 'latest.md'), `${table}\n`);
    // The chart beside its JSON: each workload's p50 at c=1 and req/s at c=16, Lucien beside etcd and Redis.
    const svg = chartSvg(
      results,
      `Lucien bench ${new Date().toISOString().slice(0, 16)}Z (medians; ${settings.reps} × ${settings.durationMs} ms per cell)`,
    );
    writeFileSync(file.replace(/\.json$/, '.svg'), svg);
    writeFileSync(join(dir, 'latest.svg'), svg);
    log(`\nwrote ${file}`);
  } finally {
    clients?.lucien.close();
    pingPong?.close();
    await floorDb?.close().catch(() => undefined);
    if (floorDir !== undefined) rmSync(floorDir, { recursive: true, force: true });
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`bench failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
