/**
 * `npm run cluster`: a Lucien cluster on this machine for trying things out.
 * Starts a 3-member etcd cluster (Debian's etcd-server) on loopback and N
 * Lucien nodes on it (default 2), prints every endpoint, and stops it all on
 * Ctrl-C. Flags: --nodes N, --members M. Everything binds 127.0.0.1 only, on
 * free ports; etcd data lives in a temporary directory that is removed on
 * exit. A node that dies prints the end of its log.
 */
import { launchServer, type ServerProcess } from '../lib/server-process';
import { type EtcdCluster, startEtcdCluster } from './etcd-cluster';

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

/** One Lucien node on the cluster; its log is its process output (printed on a failed start). */
function startNode(etcd: EtcdCluster): Promise<ServerProcess> {
  return launchServer({
    args: ['--backend', 'etcd', '--etcd-endpoints', etcd.endpoints],
    enginePool: 'server',
    waitForPool: false,
    startTimeoutMs: 120000,
  });
}

async function main(): Promise<void> {
  const nodeCount = flag('nodes', 2);
  const members = flag('members', 3);
  process.stdout.write(`starting ${members} etcd members and ${nodeCount} Lucien nodes on 127.0.0.1 …\n`);
  const etcd = await startEtcdCluster({ size: members });
  const nodes: ServerProcess[] = [];
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping …\n');
    await Promise.all(
      nodes.map(async (n) => {
        await n.stop();
        n.cleanup();
      }),
    );
    await etcd.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  try {
    for (let i = 0; i < nodeCount; i++) nodes.push(await startNode(etcd));
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
    ...nodes.map((n, i) => `  node ${i + 1}  ${n.address}  pid ${n.process.pid}`),
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
  for (const n of nodes) {
    n.process.once('exit', (code) => {
      if (!stopping)
        process.stdout.write(`Lucien node ${n.address} exited with ${code}:\n${n.output().slice(-2000)}\n`);
    });
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`cluster: ${(err as Error).message}\n`);
  process.exit(1);
});
