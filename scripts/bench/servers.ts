/**
 * Starts and stops what the bench measures, each on loopback with a fresh
 * temporary directory and a free port: Lucien (dist/src/main.js, optionally
 * under extra node flags such as --cpu-prof), the bare grpc-js echo server,
 * and the peers etcd and Redis when their binaries are installed.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../lib/free-port';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdLean } from './etcd-client';
import { Resp } from './resp';
import { launchServer } from '../lib/server-process';
import { PACKAGE_ROOT } from '../../src/paths';

export const ROOT = PACKAGE_ROOT;

export interface Running {
  readonly name: string;
  readonly pid: number;
  readonly address: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface RunningLucien extends Running {
  /** Spawn to the "serving" log line, as this process saw it. */
  readonly startMs: number;
  /** The server's own startupMs field (store open to SERVING). */
  readonly reportedStartupMs: number | undefined;
  /** Per engine, spawn of its first host to ready, from the server's "engine warm" lines. */
  readonly engineWarmMs: Record<string, number>;
  /** Spawn to every engine pool complete (the hosts after the first start in the background after SERVING). */
  readonly poolCompleteMs: number;
  readonly dataDir: string;
}

export function which(binary: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stopper(child: ChildProcess, cleanup: () => void, graceMs = 20000): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        cleanup();
        resolve();
      };
      if (child.exitCode !== null || child.signalCode !== null) return done();
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', done);
      child.kill('SIGTERM');
    });
    return stopping;
  };
}

/** Waits for a stdout line matching `pattern`; rejects if the process exits first. */
function waitForLine(
  child: ChildProcess,
  pattern: RegExp,
  timeoutMs: number,
  what: string,
): Promise<RegExpExecArray & { output: string }> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`${what} did not start within ${timeoutMs} ms:\n${out.slice(-2000)}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      if (out.length < 1e6) out += chunk.toString();
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout?.removeListener('data', onData);
        child.stdout?.resume(); // keep draining so the child never blocks on a full pipe
        resolve(Object.assign(m, { output: out }));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      if (out.length < 1e6) out += chunk.toString();
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code ?? signal}) before serving:\n${out.slice(-2000)}`));
    });
  });
}

export interface LucienOptions {
  /** Node flags placed before dist/src/main.js, e.g. --cpu-prof. */
  readonly nodeFlags?: readonly string[];
  /** Extra server flags. */
  readonly args?: readonly string[];
}

export async function startLucien(options: LucienOptions = {}): Promise<RunningLucien> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lucien-bench-'));
  const t0 = performance.now();
  const server = await launchServer({
    dataDir,
    nodeFlags: options.nodeFlags,
    args: ['--log-level', 'info', ...(options.args ?? [])],
    enginePool: 'server',
    waitForPool: false,
    startTimeoutMs: 120_000,
  }).catch((err: Error) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  const startMs = server.startMs;
  await server.poolComplete(120_000);
  const poolCompleteMs = performance.now() - t0;
  const serving = server.logLines('serving')[0];
  const engineWarmMs: Record<string, number> = {};
  for (const line of server.logLines('engine warm')) {
    if (typeof line.engine === 'string' && typeof line.ms === 'number') engineWarmMs[line.engine] = line.ms;
  }
  const child = server.process;
  return {
    name: 'lucien',
    pid: child.pid as number,
    poolCompleteMs,
    address: server.address,
    port: server.port,
    startMs,
    reportedStartupMs: typeof serving?.startupMs === 'number' ? serving.startupMs : undefined,
    engineWarmMs,
    dataDir,
    stop: stopper(child, () => rmSync(dataDir, { recursive: true, force: true })),
  };
}

export async function startEcho(value: string): Promise<Running> {
  const child = spawn(process.execPath, [join(__dirname, 'echo-server.js'), value], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.resume();
  const m = await waitForLine(child, /\{"port":(\d+)\}/, 30000, 'echo server');
  const port = Number(m[1]);
  return {
    name: 'grpc-js echo',
    pid: child.pid as number,
    address: `127.0.0.1:${port}`,
    port,
    stop: stopper(child, () => undefined),
  };
}

/**
 * etcd, one member on loopback. Its data lives on tmpfs (/dev/shm when there
 * is one): etcd 3.4 cannot turn off its fsync per write, and Lucien's
 * default does not fsync either (it survives a process crash, not power loss).
 */
export async function startEtcd(): Promise<Running | undefined> {
  const bin = which('etcd');
  if (bin === undefined) return undefined;
  const base = process.env.BENCH_ETCD_DIR ?? '/dev/shm';
  const dataDir = mkdtempSync(join(base, 'lucien-bench-etcd-'));
  const client = await freePort();
  const peer = await freePort();
  const child = spawn(
    bin,
    [
      '--name',
      'bench',
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      `http://127.0.0.1:${client}`,
      '--advertise-client-urls',
      `http://127.0.0.1:${client}`,
      '--listen-peer-urls',
      `http://127.0.0.1:${peer}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${peer}`,
      '--initial-cluster',
      `bench=http://127.0.0.1:${peer}`,
      '--log-level',
      'error',
      '--logger',
      'zap',
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const stop = stopper(child, () => rmSync(dataDir, { recursive: true, force: true }));
  const address = `127.0.0.1:${client}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    try {
      const c = await EtcdLean.connect(address);
      await c.get('ping');
      c.close();
      break;
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null) {
        await stop();
        throw new Error(`etcd did not start: ${(err as Error).message}`);
      }
      await sleep(100);
    }
  }
  return { name: 'etcd', pid: child.pid as number, address, port: client, stop };
}

/** Redis on loopback; the append-only file without fsync, like Lucien's default durability. */
export async function startRedis(): Promise<Running | undefined> {
  const bin = which('redis-server');
  if (bin === undefined) return undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'lucien-bench-redis-'));
  const port = await freePort();
  const child = spawn(
    bin,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dataDir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'no',
      '--loglevel',
      'warning',
    ],
    {
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  );
  const stop = stopper(child, () => rmSync(dataDir, { recursive: true, force: true }));
  const deadline = Date.now() + 30000;
  for (;;) {
    try {
      const r = await Resp.connect(port);
      await r.command(['PING']);
      r.close();
      break;
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null) {
        await stop();
        throw new Error(`redis did not start: ${(err as Error).message}`);
      }
      await sleep(50);
    }
  }
  return { name: 'redis', pid: child.pid as number, address: `127.0.0.1:${port}`, port, stop };
}
