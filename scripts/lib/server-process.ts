/**
 * Starts a real Lucien server process (the compiled dist/src/main.js, as
 * `npm start` runs it) on a free loopback port and waits until the health
 * service reports SERVING: the one launcher that tests, the bench and the
 * load script share. The port comes from the server's "listening" log line
 * (the port is chosen by the kernel, so nothing can take it in between);
 * readiness comes from grpc.health.v1, never from scraping log text.
 * `stop()` sends SIGTERM and waits; `kill()` is kill -9. Must never leave a
 * process behind when start-up fails.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { PACKAGE_ROOT } from '../../src/paths';

export const MAIN = join(PACKAGE_ROOT, 'dist/src/main.js');

export interface LaunchOptions {
  /** Extra server flags, e.g. ['--backend', 'memory']. */
  readonly args?: readonly string[];
  /** Node flags placed before main.js, e.g. ['--cpu-prof']. */
  readonly nodeFlags?: readonly string[];
  /** The server's whole environment besides PATH (servers read LUCIEN_* from it). */
  readonly env?: Record<string, string>;
  /** Reuse this data directory (restart tests); otherwise a fresh temp dir, removed by cleanup(). */
  readonly dataDir?: string;
  /** Engine hosts per language: 1 by default (tests); 'server' leaves the server's own default. */
  readonly enginePool?: number | 'server';
  readonly startTimeoutMs?: number;
  /** Also wait until every engine pool has all its hosts (default true). */
  readonly waitForPool?: boolean;
  /** Credentials for the health check (a TLS server needs them). */
  readonly credentials?: grpc.ChannelCredentials;
}

export interface ServerProcess {
  readonly address: string;
  readonly port: number;
  readonly dataDir: string;
  readonly process: ChildProcess;
  /** Spawn to SERVING, as this process saw it. */
  readonly startMs: number;
  /** Everything the server printed so far (bounded to its first few MB). */
  output(): string;
  /** JSON log lines whose message is `message`. */
  logLines(message: string): Record<string, unknown>[];
  /** Resolves once every engine that logged "engine warm" logged "engine pool complete". */
  poolComplete(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then waits for the exit code. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
  /** Removes the data directory if this launcher made it. */
  cleanup(): void;
}

const OUTPUT_CAP = 8 << 20;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface HealthClient extends grpc.Client {
  Check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (err: grpc.ServiceError | null, response?: { status: string }) => void,
  ): void;
}

const healthPackage = grpc.loadPackageDefinition(
  protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String }),
) as unknown as {
  grpc: { health: { v1: { Health: new (address: string, creds: grpc.ChannelCredentials) => HealthClient } } };
};

/** Polls grpc.health.v1 Check for lucien.v1.Lucien until SERVING or the deadline. */
export async function waitServing(
  address: string,
  credentials: grpc.ChannelCredentials,
  deadline: number,
  alive: () => boolean,
): Promise<void> {
  const client = new healthPackage.grpc.health.v1.Health(address, credentials);
  try {
    for (;;) {
      const status = await new Promise<string>((resolve) => {
        client.Check({ service: 'lucien.v1.Lucien' }, { deadline: Date.now() + 2000 }, (err, res) =>
          resolve(err ? `error: ${err.message}` : (res?.status ?? 'UNKNOWN')),
        );
      });
      if (status === 'SERVING') return;
      if (!alive()) throw new Error('server exited before SERVING');
      if (Date.now() > deadline) throw new Error(`server not SERVING in time (last health answer: ${status})`);
      await sleep(20);
    }
  } finally {
    client.close();
  }
}

function parseLines(output: string, message: string): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  for (const text of output.split('\n')) {
    if (!text.includes(`"message":"${message}"`)) continue;
    try {
      found.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      // a line cut by the output cap, or not ours
    }
  }
  return found;
}

export async function launchServer(options: LaunchOptions = {}): Promise<ServerProcess> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'lucien-test-'));
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const args = [
    ...(options.nodeFlags ?? []),
    MAIN,
    ...['--port', '0', '--http-port', '0', '--data-dir', dataDir, '--log-format', 'json'],
    ...(options.enginePool === 'server' ? [] : ['--engine-pool', String(options.enginePool ?? 1)]),
    ...(options.args ?? []),
  ];
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: PACKAGE_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(options.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    if (output.length < OUTPUT_CAP) output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const deadline = Date.now() + timeoutMs;

  const kill = async () => {
    if (alive()) child.kill('SIGKILL');
    await exited;
  };
  const poolComplete = async (waitMs = timeoutMs): Promise<void> => {
    const until = Date.now() + waitMs;
    while (parseLines(output, 'engine pool complete').length < parseLines(output, 'engine warm').length) {
      if (Date.now() > until)
        throw new Error(`engine pools did not complete within ${waitMs} ms:\n${output.slice(-4000)}`);
      if (!alive()) throw new Error(`server exited while its pools started:\n${output.slice(-4000)}`);
      await sleep(20);
    }
  };

  let port = 0;
  try {
    while (port === 0) {
      const listening = parseLines(output, 'listening')[0];
      if (listening !== undefined) port = Number(String(listening.address).split(':').pop());
      else if (!alive()) throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before listening`);
      else if (Date.now() > deadline) throw new Error(`server did not listen within ${timeoutMs} ms`);
      else await sleep(10);
    }
    const address = `127.0.0.1:${port}`;
    await waitServing(address, options.credentials ?? grpc.credentials.createInsecure(), deadline, alive);
    if (options.waitForPool !== false) await poolComplete(Math.max(1000, deadline - Date.now()));
  } catch (err) {
    await kill();
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}:\n${output.slice(-4000)}`);
  }
  const startMs = performance.now() - t0;
  return {
    address: `127.0.0.1:${port}`,
    port,
    dataDir,
    process: child,
    startMs,
    output: () => output,
    logLines: (message) => parseLines(output, message),
    poolComplete,
    async stop() {
      if (!alive()) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    kill,
    cleanup() {
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
