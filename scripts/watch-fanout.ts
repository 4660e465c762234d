/**
 * What idle Watch streams cost (issue 16): Put throughput at concurrency 1
 * and 16 with 0 and then N idle streams (default 10,000, each on a bucket no
 * one writes, spread over several connections), and the server's resident
 * memory per open stream. Starts its own server (LevelDB in a temp dir).
 *
 *   npm run bench:watch -- [--streams 10000] [--seconds 5] [--connections 10]
 *
 * Prints one table; exits non-zero if the server's CPU per Put with the
 * streams is over 110% of without (the target, ≤ 10% cost; CPU per
 * request is steadier than throughput on a shared machine). Then measures
 * 0 streams again. Never run inside `npm test`.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { LucienClient } from '../src/generated/lucien/v1/Lucien';
import { proto } from '../src/server/proto';
import { drive, type Sample } from './bench/drive';
import { launchServer } from './lib/server-process';

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    cycles: { type: 'string', default: '3' },
    // e.g. --node-flags=--max-old-space-size=256: a leak then crashes the server instead of hiding in lazy GC.
    'node-flags': { type: 'string', default: '' },
  },
});
const CYCLES = Number(values.cycles);
const STREAMS = Number(values.streams);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

function client(address: string): LucienClient {
  return new proto.lucien.v1.Lucien(address, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
  }) as LucienClient;
}

function put(c: LucienClient, bucket: string, key: string): Promise<void> {
  return new Promise((resolve, reject) =>
    c.Put({ bucket, key, value: '{"n":1,"s":"a small value"}' }, (err) => (err ? reject(err) : resolve())),
  );
}

/** CPU seconds (user + system) the server process has used. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Cell {
  readonly sample: Sample;
  /** Server CPU per Put, in µs: far steadier than throughput on a shared machine. */
  readonly cpuUs: number;
}

async function cell(c: LucienClient, pid: number, concurrency: number): Promise<Cell> {
  const cpu0 = cpuSeconds(pid);
  const sample = await drive((i) => put(c, 'hot', `k${i % 1000}`), concurrency, SECONDS * 1000);
  return { sample, cpuUs: ((cpuSeconds(pid) - cpu0) * 1e6) / Math.max(1, sample.ops) };
}

async function rates(c: LucienClient, pid: number): Promise<{ c1: Cell; c16: Cell }> {
  return { c1: await cell(c, pid, 1), c16: await cell(c, pid, 16) };
}

/** Opens STREAMS idle streams over CONNECTIONS connections and waits until all are live. */
async function openStreams(address: string, writer: LucienClient): Promise<{ close(): void }> {
  const watchers = Array.from({ length: CONNECTIONS }, () => client(address));
  const streams: grpc.ClientReadableStream<unknown>[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < STREAMS; i++) {
    const s = (watchers[i % CONNECTIONS] as LucienClient).Watch({ bucket: `idle-${i}` });
    s.on('error', () => undefined);
    s.on('data', () => seen.add(i));
    streams.push(s);
  }
  // The last stream of each connection sees a probe write once the whole batch is open.
  const probes = Array.from({ length: CONNECTIONS }, (_, c) => STREAMS - CONNECTIONS + c);
  const started = Date.now();
  while (probes.some((i) => !seen.has(i))) {
    if (Date.now() - started > 300_000) throw new Error('the idle streams did not open within 5 minutes');
    for (const i of probes) if (!seen.has(i)) await put(writer, `idle-${i}`, 'probe');
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    close() {
      for (const s of streams) s.cancel();
      for (const w of watchers) w.close();
    },
  };
}

async function main(): Promise<void> {
  const server = await launchServer({
    args: ['--max-streams-per-connection', String(Math.ceil(STREAMS / CONNECTIONS) + 100)],
  });
  const pid = server.process.pid as number;
  const writer = client(server.address);
  try {
    await drive((i) => put(writer, 'hot', `k${i % 1000}`), 4, 2000); // warm-up
    const without = await rates(writer, pid);
    const rssBefore = rssMb(pid);

    const opened = Date.now();
    const open = await openStreams(server.address, writer);
    const openSeconds = (Date.now() - opened) / 1000;
    await new Promise((r) => setTimeout(r, 2000));
    const rssWith = rssMb(pid);
    const withStreams = await rates(writer, pid);
    open.close();
    await new Promise((r) => setTimeout(r, 5000));
    const rssAfter = rssMb(pid);
    // Open and cancel the streams again: if each cycle left something behind, RSS would climb cycle after cycle.
    const cycleRss: number[] = [];
    for (let k = 0; k < CYCLES; k++) {
      (await openStreams(server.address, writer)).close();
      await new Promise((r) => setTimeout(r, 5000));
      cycleRss.push(rssMb(pid));
    }

    const after = await rates(writer, pid);
    const ratio1 = withStreams.c1.sample.rps / without.c1.sample.rps;
    const ratio16 = withStreams.c16.sample.rps / without.c16.sample.rps;
    const cpuRatio = (withStreams.c1.cpuUs + withStreams.c16.cpuUs) / (without.c1.cpuUs + without.c16.cpuUs);
    const row = (name: string, c: Cell) =>
      `| ${name} | ${Math.round(c.sample.rps)} | ${Math.round(c.sample.p50us)} | ${Math.round(c.sample.p99us)} | ${Math.round(c.cpuUs)} |`;
    console.log(
      `\nPut throughput with 0 and ${STREAMS} idle Watch streams (${CONNECTIONS} connections, ${SECONDS} s per cell)\n`,
    );
    console.log('| cell | req/s | p50 µs | p99 µs | server CPU µs/Put |');
    console.log('|---|---|---|---|---|');
    console.log(row('Put c=1, 0 streams', without.c1));
    console.log(row(`Put c=1, ${STREAMS} streams`, withStreams.c1));
    console.log(row('Put c=1, 0 streams again', after.c1));
    console.log(row('Put c=16, 0 streams', without.c16));
    console.log(row(`Put c=16, ${STREAMS} streams`, withStreams.c16));
    console.log(row('Put c=16, 0 streams again', after.c16));
    console.log(
      `\nthroughput kept: c=1 ${(ratio1 * 100).toFixed(1)}%, c=16 ${(ratio16 * 100).toFixed(1)}%; server CPU per Put with the streams: ${(cpuRatio * 100).toFixed(1)}% of without`,
    );
    console.log(
      `server RSS: ${rssBefore.toFixed(0)} MB before, ${rssWith.toFixed(0)} MB with the streams (${(((rssWith - rssBefore) * 1024 * 1024) / STREAMS / 1024).toFixed(1)} KiB per stream), ${rssAfter.toFixed(0)} MB 5 s after cancelling`,
    );
    console.log(`streams opened in ${openSeconds.toFixed(1)} s`);
    console.log(
      `server RSS after each further open-and-cancel cycle of ${STREAMS} streams: ${cycleRss.map((r) => r.toFixed(0)).join(', ')} MB`,
    );
    // The target (≤ 10% cost) is judged on server CPU per Put, which a busy machine barely moves.
    if (cpuRatio > 1.1) process.exitCode = 1;
  } finally {
    writer.close();
    await server.stop();
    server.cleanup();
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
