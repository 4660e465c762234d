/**
 * Starts a real Lucien server process (the compiled dist/src/main.js, as
 * `npm start` runs it) on a free loopback port, for integration tests that
 * speak gRPC to it. Waits for the "serving" log line (and, unless told not to,
 * for every engine pool to finish starting); `stop()` sends SIGTERM
 * and waits, `kill()` is kill -9.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '../..');
export const MAIN = join(ROOT, 'dist/src/main.js');

export interface StartOptions {
  /** Extra flags, e.g. ['--backend', 'memory']. Default: a fresh LevelDB directory. */
  readonly args?: readonly string[];
  readonly env?: Record<string, string>;
  /** Reuse this data directory (restart tests); otherwise a fresh temp dir. */
  readonly dataDir?: string;
  readonly startTimeoutMs?: number;
  /**
   * Also wait for every engine's whole pool (default true): SERVING comes once
   * one host per engine is warm, and the rest start in the background.
   */
  readonly waitForPool?: boolean;
}

export interface RunningServer {
  readonly address: string;
  readonly port: number;
  readonly dataDir: string;
  readonly process: ChildProcess;
  /** Everything the server printed so far. */
  output(): string;
  /** Resolves once every engine logged "engine pool complete". */
  poolComplete(timeoutMs?: number): Promise<void>;
  stop(): Promise<number | null>;
  kill(): Promise<void>;
  /** Removes the data directory if this helper made it. */
  cleanup(): void;
}

export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'lucien-test-'));
  const args = [MAIN, '--port', '0', '--http-port', '0', '--data-dir', dataDir, '--log-format', 'json', '--engine-pool', '1', ...(options.args ?? [])];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(options.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${options.startTimeoutMs ?? 30000} ms:\n${output}`)), options.startTimeoutMs ?? 30000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"address":"[^"]*:(\d+)"[^\n]*"message":"serving"|"message":"serving"[^\n]*"address":"[^"]*:(\d+)"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1] ?? match[2]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before serving:\n${output}`));
    });
  });
  const poolComplete = async (timeoutMs = 60000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    const count = (what: string) => output.split('\n').filter((line) => line.includes(`"message":"${what}"`)).length;
    while (count('engine pool complete') < count('engine warm')) {
      if (Date.now() > deadline) throw new Error(`engine pools did not complete within ${timeoutMs} ms:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  if (options.waitForPool !== false) await poolComplete(options.startTimeoutMs ?? 30000);
  return {
    address: `127.0.0.1:${port}`,
    port,
    dataDir,
    process: child,
    output: () => output,
    poolComplete,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    cleanup() {
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
