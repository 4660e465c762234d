/**
 * A Lucien cluster for integration tests: a 3-member etcd cluster on
 * loopback (scripts/cluster/etcd-cluster.ts, the same one `npm run cluster`
 * starts) and N real Lucien server processes on it (test/helpers/server.ts),
 * each given every etcd endpoint. Nodes can be restarted; etcd members can be
 * killed, stopped, frozen and started through `etcd.members`.
 */
import { type EtcdCluster, startEtcdCluster } from '../../scripts/cluster/etcd-cluster';
import { type RunningServer, startServer } from './server';

export type { EtcdCluster, EtcdMember } from '../../scripts/cluster/etcd-cluster';

export interface LucienCluster {
  readonly etcd: EtcdCluster;
  /** Lucien nodes, in start order; restartNode replaces an entry. */
  readonly nodes: RunningServer[];
  /** SIGTERM node i and start a fresh process on the same etcd (Lucien nodes are stateless). */
  restartNode(i: number): Promise<RunningServer>;
  stop(): Promise<void>;
}

export interface LucienClusterOptions {
  readonly nodes?: number;
  readonly etcdMembers?: number;
  /** Extra flags for every node. */
  readonly args?: readonly string[];
}

export async function startLucienCluster(options: LucienClusterOptions = {}): Promise<LucienCluster> {
  const etcd = await startEtcdCluster({ size: options.etcdMembers ?? 3 });
  const nodes: RunningServer[] = [];
  const startNode = () =>
    startServer({
      args: ['--backend', 'etcd', '--etcd-endpoints', etcd.endpoints, ...(options.args ?? [])],
      startTimeoutMs: 60000,
    });
  const stop = async () => {
    await Promise.all(
      nodes.map(async (n) => {
        await n.kill();
        n.cleanup();
      }),
    );
    await etcd.stop();
  };
  try {
    // One after another: two Pyodide pools starting together on two cores slow each other down.
    for (let i = 0; i < (options.nodes ?? 2); i++) nodes.push(await startNode());
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    etcd,
    nodes,
    async restartNode(i) {
      const old = nodes[i];
      if (old === undefined) throw new Error(`no node ${i}`);
      await old.stop();
      old.cleanup();
      const next = await startNode();
      nodes[i] = next;
      return next;
    },
    stop,
  };
}
