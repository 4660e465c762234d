/**
 * A real, single-member etcd for integration tests: started on free loopback
 * ports with a temp data dir (tmpfs when there is one). stop() ends it and
 * removes its data; kill() is an abrupt outage (SIGKILL) that restart() undoes
 * on the same ports and data. No etcd installed is a failure, never a skip:
 * CI installs etcd-server. (The 3-member cluster is scripts/cluster/.)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { freePort } from '../../scripts/lib/free-port';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface RunningEtcd {
  readonly endpoint: string;
  /** Ends etcd and removes its data. */
  stop(): Promise<void>;
  /** SIGKILL: the store goes away mid-call; its data stays for restart(). */
  kill(): Promise<void>;
  /** Starts it again on the same ports and data (after kill()). */
  restart(): Promise<void>;
}

export async function startEtcd(): Promise<RunningEtcd> {
  const binary = (process.env.PATH ?? '')
    .split(delimiter)
    .map((dir) => join(dir, 'etcd'))
    .find(isExecutable);
  if (binary === undefined) {
    throw new Error(
      'etcd is not installed, and the etcd backend tests need a real one: apt-get install -y etcd-server',
    );
  }
  // tmpfs when there is one: etcd fsyncs every commit, and these tests commit a lot.
  const dir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'lucien-etcd-'));
  const client = `http://127.0.0.1:${await freePort()}`;
  const peer = `http://127.0.0.1:${await freePort()}`;
  let child: ChildProcess | undefined;
  let stderr = '';
  const end = (signal: NodeJS.Signals): Promise<void> => {
    const own = child;
    if (own === undefined || own.exitCode !== null || own.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      own.once('exit', () => resolve());
      own.kill(signal);
    });
  };
  const start = async (): Promise<void> => {
    // prettier-ignore
    const own = spawn(binary, [
      '--name', 'lucien-test', '--data-dir', dir,
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `lucien-test=${peer}`, '--initial-cluster-state', 'new',
      '--logger', 'zap', '--log-level', 'error',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = own;
    own.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const deadline = Date.now() + 20000;
    for (;;) {
      if (own.exitCode !== null) throw new Error(`etcd exited with ${own.exitCode} before serving: ${stderr}`);
      const healthy = await fetch(`${client}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (healthy) return;
      if (Date.now() > deadline) {
        await end('SIGKILL');
        throw new Error(`etcd did not become healthy within 20 s: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const stop = async (): Promise<void> => {
    await end('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await start();
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint: client.replace('http://', ''), stop, kill: () => end('SIGKILL'), restart: start };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Retries `fn` for a few seconds (a restarted etcd may take a moment to elect itself). */
export async function waitFor<T>(fn: () => Promise<T>): Promise<T> {
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
