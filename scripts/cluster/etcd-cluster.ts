/**
 * A local etcd cluster of Debian's etcd-server: N members (3 by default) on
 * loopback with free ports and temporary data directories (on tmpfs where
 * there is one), for the fault tests and for `npm run cluster`. Members can
 * be killed, stopped, frozen and restarted on their own data, and the leader
 * is found through etcd's v3 gRPC gateway (POST /v3/maintenance/status; etcd
 * 3.4 has no v2 API). It must never bind anything but 127.0.0.1, and stop()
 * removes everything it made.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../lib/free-port';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface EtcdMember {
  readonly name: string;
  /** host:port for clients (what LUCIEN_ETCD_ENDPOINTS takes). */
  readonly endpoint: string;
  readonly clientUrl: string;
  /** Its process id while running. */
  readonly pid: number | undefined;
  /** Whether its process is running (frozen counts as running). */
  readonly running: boolean;
  readonly frozen: boolean;
  /** kill -9: no goodbye to its peers. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** Starts it again on its own data directory (it rejoins the cluster). */
  start(): Promise<void>;
  /** SIGSTOP: alive, connections open, answers nothing (a hung or cut-off member). */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** Every member's client endpoint, comma-separated as LUCIEN_ETCD_ENDPOINTS takes them. */
  readonly endpoints: string;
  /** The member the running members agree is leader (waits up to timeoutMs for one). */
  leader(timeoutMs?: number): Promise<EtcdMember>;
  /** Waits until every running, unfrozen member reports a leader. */
  healthy(timeoutMs?: number): Promise<void>;
  /** Stops every member and removes the data directories. Safe to call twice. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  readonly size?: number;
  /** Where member logs go: 'ignore' (default) or 'inherit'. */
  readonly output?: 'ignore' | 'inherit';
}

export function etcdBinary(): string {
  const found = (process.env.PATH ?? '')
    .split(delimiter)
    .map((dir) => join(dir, 'etcd'))
    .find(isExecutable);
  if (found === undefined) throw new Error('etcd is not installed: apt-get install -y etcd-server');
  return found;
}

export async function startEtcdCluster(options: ClusterOptions = {}): Promise<EtcdCluster> {
  const size = options.size ?? 3;
  const binary = etcdBinary();
  // tmpfs when there is one: etcd fsyncs every commit.
  const root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'lucien-etcd-cluster-'));
  const specs = [];
  for (let i = 1; i <= size; i++) {
    specs.push({
      name: `m${i}`,
      client: `http://127.0.0.1:${await freePort()}`,
      peer: `http://127.0.0.1:${await freePort()}`,
      dir: join(root, `m${i}`),
    });
  }
  const initialCluster = specs.map((s) => `${s.name}=${s.peer}`).join(',');
  const token = `lucien-${process.pid}-${Date.now()}`;

  const members = specs.map((spec) => {
    let child: ChildProcess | undefined;
    let frozen = false;
    let stderr = '';
    const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
    const exited = (signal: NodeJS.Signals): Promise<void> => {
      const c = child;
      if (c === undefined || !alive()) return Promise.resolve();
      return new Promise((resolve) => {
        c.once('exit', () => resolve());
        if (frozen) c.kill('SIGCONT');
        frozen = false;
        c.kill(signal);
      });
    };
    const member: EtcdMember = {
      name: spec.name,
      endpoint: spec.client.replace('http://', ''),
      clientUrl: spec.client,
      get pid() {
        return alive() ? child?.pid : undefined;
      },
      get running() {
        return alive();
      },
      get frozen() {
        return frozen && alive();
      },
      kill: () => exited('SIGKILL'),
      stop: () => exited('SIGTERM'),
      async start() {
        if (alive()) return;
        stderr = '';
        child = spawn(
          binary,
          [
            '--name',
            spec.name,
            '--data-dir',
            spec.dir,
            '--listen-client-urls',
            spec.client,
            '--advertise-client-urls',
            spec.client,
            '--listen-peer-urls',
            spec.peer,
            '--initial-advertise-peer-urls',
            spec.peer,
            '--initial-cluster',
            initialCluster,
            '--initial-cluster-state',
            'new',
            '--initial-cluster-token',
            token,
            '--logger',
            'zap',
            '--log-level',
            'error',
          ],
          { stdio: ['ignore', options.output ?? 'ignore', 'pipe'] },
        );
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr = (stderr + chunk.toString()).slice(-4000);
          if (options.output === 'inherit') process.stderr.write(chunk);
        });
        // Serving its client port is enough here: a restarted member may wait for peers to have a leader.
        const deadline = Date.now() + 20000;
        while (
          !(await fetch(`${spec.client}/version`).then(
            (r) => r.ok,
            () => false,
          ))
        ) {
          if (!alive()) throw new Error(`etcd ${spec.name} exited with ${child.exitCode}: ${stderr}`);
          if (Date.now() > deadline) throw new Error(`etcd ${spec.name} did not serve within 20 s: ${stderr}`);
          await sleep(50);
        }
      },
      freeze() {
        if (alive()) child?.kill('SIGSTOP');
        frozen = true;
      },
      thaw() {
        if (alive()) child?.kill('SIGCONT');
        frozen = false;
      },
    };
    return member;
  });

  let stopped = false;
  const cluster: EtcdCluster = {
    members,
    endpoints: members.map((m) => m.endpoint).join(','),
    async leader(timeoutMs = 15000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = await agreedLeader(members);
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`the etcd cluster had no leader within ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    async healthy(timeoutMs = 20000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const up = members.filter((m) => m.running && !m.frozen);
        const ok = await Promise.all(
          up.map((m) =>
            fetchJson(`${m.clientUrl}/health`, undefined).then(
              (h) => (h as { health?: string } | undefined)?.health === 'true',
            ),
          ),
        );
        if (ok.every(Boolean) && (await agreedLeader(members)) !== undefined) return;
        if (Date.now() > deadline) throw new Error(`the etcd cluster was not healthy within ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(members.map((m) => m.kill()));
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(members.map((m) => m.start()));
    await cluster.healthy();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** The leader every running, unfrozen member names, or undefined while they disagree or have none. */
async function agreedLeader(members: readonly EtcdMember[]): Promise<EtcdMember | undefined> {
  const up = members.filter((m) => m.running && !m.frozen);
  const statuses = await Promise.all(
    up.map((m) => fetchJson(`${m.clientUrl}/v3/maintenance/status`, {}) as Promise<Status | undefined>),
  );
  const leaders = new Set(statuses.map((s) => s?.leader));
  if (statuses.some((s) => s === undefined || s.leader === undefined || s.leader === '0') || leaders.size !== 1)
    return undefined;
  const index = statuses.findIndex((s) => s?.header?.member_id === s?.leader);
  return index < 0 ? undefined : up[index];
}

interface Status {
  readonly header?: { readonly member_id?: string };
  readonly leader?: string;
}

async function fetchJson(url: string, body: object | undefined): Promise<unknown> {
  try {
    const res = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(1000),
    });
    return res.ok ? await res.json() : undefined;
  } catch {
    return undefined;
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
