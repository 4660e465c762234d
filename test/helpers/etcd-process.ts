/**
 * A real etcd for integration tests that need the server's etcd backend
 * (e.g. to fail the store under a running script): started on free loopback
 * ports with a temp data dir, killed (SIGKILL: an abrupt outage) or stopped.
 * No etcd installed is a failure, never a skip: CI installs etcd-server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdProcess {
  readonly endpoint: string;
  /** SIGKILL: the store goes away mid-call. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and data (after kill()). */
  restart(): Promise<void>;
  cleanup(): void;
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

export async function startEtcdProcess(): Promise<EtcdProcess> {
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'lucien-etcd-'));
  const client = `http://127.0.0.1:${await freePort()}`;
  const peer = `http://127.0.0.1:${await freePort()}`;
  let child: ChildProcess;
  let exited: Promise<void>;
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  const start = async () => {
    child = spawn(
      'etcd',
      [
        '--name',
        'lucien-test',
        '--data-dir',
        dir,
        '--listen-client-urls',
        client,
        '--advertise-client-urls',
        client,
        '--listen-peer-urls',
        peer,
        '--initial-advertise-peer-urls',
        peer,
        '--initial-cluster',
        `lucien-test=${peer}`,
        '--initial-cluster-state',
        'new',
        '--logger',
        'zap',
        '--log-level',
        'error',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    const own = child;
    exited = new Promise<void>((resolve) => own.once('exit', () => resolve()));
    const deadline = Date.now() + 20000;
    while (
      !(await fetch(`${client}/health`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (own.exitCode !== null || Date.now() > deadline) {
        await kill();
        throw new Error('etcd did not become healthy (is etcd-server installed?)');
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  await start();
  return {
    endpoint: client.replace('http://', ''),
    kill,
    restart: start,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
