/**
 * `npm run cluster`: a Lucien cluster on this machine for trying things out.
 * Starts a 3-member etcd cluster (Debian's etcd-server) on loopback and N
 * Lucien nodes on it (default 2), prints every endpoint, and stops it all on
 * Ctrl-C. Flags: --nodes N, --members M, --port P (first Lucien port; the
 * default is any free port). Everything binds 127.0.0.1 only; etcd data lives
 * in a temporary directory that is removed on exit. Lucien's logs go to files
 * whose paths are printed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EtcdCluster, freePort, startEtcdCluster } from './etcd-cluster';

const ROOT = join(__dirname, '../../..');
const MAIN = join(ROOT, 'dist/src/main.js');

interface Node {
  readonly address: string;
  readonly child: ChildProcess;
  readonly log: string;
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i < 0 ? undefined : Number(process.argv[i + 1]);
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`cluster: --${name} needs a whole number\n`);
    process.exit(2);
  }
  return value;
}

async function startNode(etcd: EtcdCluster, port: number, logDir: string, i: number): Promise<Node> {
  const log = join(logDir, `lucien-${i + 1}.log`);
  const out = createWriteStream(log);
  const child = spawn(process.execPath, [MAIN, '--backend', 'etcd', '--etcd-endpoints', etcd.endpoints, '--port', String(port), '--log-format', 'json'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out.write(chunk);
      seen = (seen + chunk.toString()).slice(-8000);
      if (seen.includes('"message":"serving"')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`Lucien node ${i + 1} exited with ${code} before serving; see ${log}`)));
  });
  return { address: `127.0.0.1:${port}`, child, log };
}

async function main(): Promise<void> {
  const nodeCount = flag('nodes', 2);
  const members = flag('members', 3);
  const firstPort = flag('port', 0);
  process.stdout.write(`starting ${members} etcd members and ${nodeCount} Lucien nodes on 127.0.0.1 …\n`);
  const etcd = await startEtcdCluster({ size: members });
  const logDir = mkdtempSync(join(tmpdir(), 'lucien-cluster-logs-'));
  const nodes: Node[] = [];
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping …\n');
    await Promise.all(nodes.map((n) => new Promise<void>((resolve) => {
      if (n.child.exitCode !== null) return resolve();
      n.child.once('exit', () => resolve());
      n.child.kill('SIGTERM');
    })));
    await etcd.stop();
    rmSync(logDir, { recursive: true, force: true });
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  try {
    for (let i = 0; i < nodeCount; i++) nodes.push(await startNode(etcd, firstPort > 0 ? firstPort + i : await freePort(), logDir, i));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    await stop(1);
    return;
  }
  const leader = await etcd.leader();
  const lines = [
    '',
    'etcd members (LUCIEN_ETCD_ENDPOINTS):',
    ...etcd.members.map((m) => `  ${m.name}  ${m.endpoint}  pid ${m.pid}${m === leader ? '  (leader)' : ''}`),
    `  all: ${etcd.endpoints}`,
    '',
    'Lucien nodes:',
    ...nodes.map((n, i) => `  node ${i + 1}  ${n.address}  pid ${n.child.pid}  log ${n.log}`),
    '',
    'Try:',
    `  grpcurl -plaintext -d '{"bucket":"b","key":"k","value":"{\\"n\\":1}"}' ${nodes[0]?.address} lucien.v1.Lucien/Put`,
    `  grpcurl -plaintext -d '{"bucket":"b","key":"k"}' ${nodes[nodes.length - 1]?.address} lucien.v1.Lucien/Get`,
    `  kill -9 ${leader.pid}    # the etcd leader: the nodes go on answering`,
    '',
    'Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
  for (const n of nodes) n.child.once('exit', (code) => !stopping && process.stdout.write(`Lucien node ${n.address} exited with ${code}; see ${n.log}\n`));
}

void main().catch((err: unknown) => {
  process.stderr.write(`cluster: ${(err as Error).message}\n`);
  process.exit(1);
});
