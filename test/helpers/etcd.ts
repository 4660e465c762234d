/**
 * Starts a real, single-member etcd on free loopback ports in a temporary
 * directory (tmpfs when there is one), for tests that need the etcd backend.
 * A missing etcd is a failure, never a skip: CI installs etcd-server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface RunningEtcd {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startEtcd(): Promise<RunningEtcd> {
  const binary = (process.env.PATH ?? '')
    .split(delimiter)
    .map((dir) => join(dir, 'etcd'))
    .find(isExecutable);
  if (binary === undefined)
    throw new Error('etcd is not installed, and these tests need a real one: apt-get install -y etcd-server');
  const dir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'lucien-etcd-'));
  const client = `http://127.0.0.1:${await freePort()}`;
  const peer = `http://127.0.0.1:${await freePort()}`;
  // prettier-ignore
  const child = spawn(binary, [
    '--name', 'lucien-test', '--data-dir', dir,
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `lucien-test=${peer}`, '--initial-cluster-state', 'new',
    '--logger', 'zap', '--log-level', 'error',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const stop = async (): Promise<void> => {
    await exited(child, () => child.kill('SIGTERM'));
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`etcd exited with ${child.exitCode} before serving: ${stderr}`);
    }
    const healthy = await fetch(`${client}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (healthy) return { endpoint: client.replace('http://', ''), stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`etcd did not become healthy within 20 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function exited(child: ChildProcess, kill: () => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    kill();
  });
}
