/**
 * A small load generator: Get and Put requests per second, with p50/p99
 * latency, at several concurrency levels, against a server it starts itself
 * (LevelDB in a fresh directory) or one given by --target. First
 * measurement, not the benchmark suite: see scripts/bench for that.
 *
 *   npm run build && node dist/scripts/load.js [--seconds 5] [--concurrency 1,16] [--target host:port]
 */
import * as grpc from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LucienClient } from '../src/generated/lucien/v1/Lucien';
import { proto } from '../src/server/proto';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

async function startServer(): Promise<{ address: string; stop(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'lucien-load-'));
  const child = spawn(process.execPath, [join(__dirname, '../src/main.js'), '--port', '0', '--http-port', '0', '--data-dir', dir, '--log-format', 'json', '--engine-pool', '1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"address":"([^"]+)"[^\n]*"message":"serving"/.exec(out);
      if (m) {
        resolve({
          address: m[1] as string,
          stop: () => {
            child.kill('SIGTERM');
            child.on('exit', () => rmSync(dir, { recursive: true, force: true }));
          },
        });
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
}

type Call = (client: LucienClient, i: number) => Promise<void>;

const value = JSON.stringify({ title: 'Some entry', content: "It's really cool", comments: ['comment_1', 'comment_2'] });
const get: Call = (c, i) => new Promise((res, rej) => c.Get({ bucket: 'load', key: `k${i % 1000}` }, (e) => (e ? rej(e) : res())));
const put: Call = (c, i) => new Promise((res, rej) => c.Put({ bucket: 'load', key: `k${i % 1000}`, value }, (e) => (e ? rej(e) : res())));

async function measure(client: LucienClient, call: Call, concurrency: number, seconds: number) {
  const latencies: number[] = [];
  const end = Date.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const t = process.hrtime.bigint();
        await call(client, n++);
        latencies.push(Number(process.hrtime.bigint() - t) / 1e3);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { rps: Math.round(latencies.length / seconds), p50us: Math.round(q(0.5)), p99us: Math.round(q(0.99)) };
}

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '5'));
  const levels = arg('concurrency', '1,16').split(',').map(Number);
  const target = arg('target', '');
  const server = target === '' ? await startServer() : { address: target, stop: () => undefined };
  const client = new proto.lucien.v1.Lucien(server.address, grpc.credentials.createInsecure()) as LucienClient;
  for (let i = 0; i < 1000; i++) await put(client, i);
  const rows: string[] = [];
  for (const [name, call] of [['Get', get], ['Put', put]] as const) {
    for (const c of levels) {
      await measure(client, call, c, 1); // warm-up
      const r = await measure(client, call, c, seconds);
      rows.push(`| ${name} | ${c} | ${r.rps} | ${r.p50us} | ${r.p99us} |`);
    }
  }
  console.log('| rpc | concurrency | requests/s | p50 µs | p99 µs |\n|---|---|---|---|---|\n' + rows.join('\n'));
  client.close();
  server.stop();
}

void main();
