/**
 * Lucien on a real 3-member etcd cluster, two Lucien nodes, under mixed load
 * from four clients through both nodes (Puts, compare-and-set, script
 * increments of one hot counter, Put/Get/CAS on shared keys, one Watch per
 * node), while a fault is injected: the etcd leader killed, a follower
 * killed, a member stopped and brought back, the leader frozen (a hung or
 * cut-off member), a Lucien node restarted. After each: every acknowledged
 * write is on every node; the counter equals the acknowledged increments;
 * every Watch saw every revision once, in order; a script registered on one
 * node runs on all; the recorded history is linearizable; no retryable error
 * for calls started 2 s after the fault. Times to first success are printed.
 */
import { performance } from 'node:perf_hooks';
import { connect, type TestClient } from '../helpers/client';
import { type LucienCluster, startLucienCluster } from '../helpers/etcd-cluster';
import { checkHistory } from '../linearizability/checker';
import { kvModel } from '../linearizability/kv-model';
import { MixedLoad, type OpRecord } from './load';

const INCREMENT =
  "const b = buckets.getBucket(args[0]); const v = b.get('counter'); const n = (v === null ? 0 : v.n) + 1; b.put('counter', { n }); result = n;";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let cluster: LucienCluster;
const timings: string[] = [];

beforeAll(async () => {
  cluster = await startLucienCluster({ nodes: 2 });
  const admin = connect(cluster.nodes[0]?.address as string);
  await admin.call('PutScript', { name: 'incr', engine: 'javascript', source: INCREMENT });
  admin.close();
}, 120000);

afterAll(async () => {
  await cluster?.stop();
  // The figures the closing note quotes: printed, not asserted (a loaded machine is slower).
  if (timings.length > 0) console.log(`failover timings (ms after the fault)\n${timings.join('\n')}`);
}, 60000);

interface Fault {
  readonly name: string;
  /** Injects the fault; returns what heals it (run after the load has seen the fault for a while). */
  /** Calls `at()` the moment the fault takes effect (timings count from there). */
  inject(c: LucienCluster, at: () => void): Promise<() => Promise<void>>;
  /** Milliseconds of load after the fault before healing. */
  readonly holdMs: number;
}

async function underLoad(bucket: string, fault: Fault): Promise<void> {
  const nodes = cluster.nodes.map((n) => connect(n.address));
  const before = Number(
    (await (nodes[0] as TestClient).call<{ revision: number }>('Put', { bucket, key: 'start', value: '{}' })).revision,
  );
  nodes.forEach((n) => n.close());
  const load = new MixedLoad({
    bucket,
    nodes: () => cluster.nodes.map((n) => n.address),
    script: 'incr',
    after: before,
    clients: 4,
  });
  load.start();
  try {
    await sleep(1000);
    let faultAt = Infinity;
    const heal = await fault.inject(cluster, () => (faultAt = performance.now()));
    await sleep(fault.holdMs);
    await heal();
    await sleep(1500);
    await load.stop();
    report(fault.name, load.ops, faultAt);
    await verify(bucket, load, faultAt);
  } finally {
    load.close();
  }
}

function report(name: string, ops: readonly OpRecord[], faultAt: number): void {
  const after = ops.filter((o) => o.start >= faultAt);
  const first = (kinds: OpRecord['kind'][]) => {
    const ok = after.filter((o) => kinds.includes(o.kind) && o.outcome === 'ok').sort((a, b) => a.end - b.end)[0];
    return ok === undefined ? 'none' : String(Math.round(ok.end - faultAt));
  };
  const failed = after.filter((o) => o.retryable);
  const lastError = failed.length === 0 ? '-' : String(Math.round(Math.max(...failed.map((o) => o.start)) - faultAt));
  // The longest a client waited on one call that was in flight at the fault or started after it.
  const slowest = Math.round(Math.max(0, ...ops.filter((o) => o.end >= faultAt).map((o) => o.end - o.start)));
  timings.push(
    `${name}: first success read ${first(['get'])}, Put ${first(['put'])}, CAS ${first(['cas'])}, script ${first(['incr'])}; retryable errors ${failed.length} (last started at ${lastError}); longest wait ${slowest}; ops ${ops.length}`,
  );
}

async function verify(bucket: string, load: MixedLoad, faultAt: number): Promise<void> {
  const clients = cluster.nodes.map((n) => connect(n.address));
  try {
    // Retryable errors stop within 2 s of the fault (by when the call started).
    const late = load.ops.filter((o) => o.retryable && o.start > faultAt + 2000);
    expect(late.map((o) => `${o.kind} at +${Math.round(o.start - faultAt)} ms: ${o.error}`)).toEqual([]);
    // No commit was left with an unknown outcome, so the counts below are exact.
    expect(load.ops.filter((o) => o.outcome === 'unknown').map((o) => o.error)).toEqual([]);

    const keys = [...load.puts.keys()];
    expect(keys.length).toBeGreaterThan(10);
    for (const client of clients) {
      for (let i = 0; i < keys.length; i += 200) {
        const chunk = keys.slice(i, i + 200);
        const { entries } = await client.call<{ entries: { key: string; found: boolean; mod_revision: number }[] }>(
          'BatchGet',
          { keys: chunk.map((key) => ({ bucket, key })) },
        );
        const wrong = entries
          .filter((e) => !e.found || Number(e.mod_revision) !== load.puts.get(e.key))
          .map((e) => e.key);
        expect(wrong).toEqual([]);
      }
      const counter = await client.call<{ value: string }>('Get', { bucket, key: 'counter' });
      expect(JSON.parse(counter.value)).toEqual({ n: load.incr.acked });
      for (let c = 0; c < load.cas.length; c++) {
        const got = await client
          .call<{ value: string }>('Get', { bucket, key: `cas/${c}` })
          .catch(() => ({ value: '{"n":0}' }));
        expect(JSON.parse(got.value)).toEqual({ n: load.cas[c]?.acked });
      }
    }
    expect(load.incr.acked).toBeGreaterThan(3);

    // Every node's Watch: each revision once, in order, the same on every node, holding every acknowledged write.
    const end = Number(
      (await (clients[0] as TestClient).call<{ revision: number }>('Put', { bucket, key: 'end', value: '{}' }))
        .revision,
    );
    await load.drainWatches(end);
    const sequences = load.watches.map((w) => w.events.filter((e) => e.revision <= end));
    for (const events of sequences) {
      const revisions = events.map((e) => e.revision);
      expect(revisions).toEqual([...new Set(revisions)].sort((a, b) => a - b));
      const seen = new Set(events.map((e) => `${e.key}@${e.revision}`));
      expect(load.writes.filter((w) => !seen.has(`${w.key}@${w.revision}`))).toEqual([]);
    }
    expect(sequences[1]).toEqual(sequences[0]);

    // A script registered on one node runs on every node.
    const name = `probe_${bucket.replace(/[^A-Za-z0-9_]/g, '_')}`;
    await (clients[1] as TestClient).call('PutScript', { name, engine: 'python', source: 'result = args[0] * 2' });
    for (const client of clients) {
      const run = await client.call<{ result: string }>('Run', { name, args: '[21]' });
      expect(run.result).toBe('42');
    }

    // The Put/Get/CAS history on the shared keys is linearizable.
    expect(load.history.length).toBeGreaterThan(20);
    expect(checkHistory(kvModel, load.history)).toEqual({ ok: true });
  } finally {
    clients.forEach((c) => c.close());
  }
}

const healEtcd = (c: LucienCluster) => async () => {
  for (const m of c.etcd.members) {
    if (m.frozen) m.thaw();
    if (!m.running) await m.start();
  }
  await c.etcd.healthy();
};

test('kill the etcd leader (kill -9) under load', async () => {
  await underLoad('f-leader', {
    name: 'leader killed',
    holdMs: 3000,
    inject: async (c, at) => {
      const leader = await c.etcd.leader();
      at();
      await leader.kill();
      return healEtcd(c);
    },
  });
}, 90000);

test('kill an etcd follower (kill -9) under load', async () => {
  await underLoad('f-follower', {
    name: 'follower killed',
    holdMs: 3000,
    inject: async (c, at) => {
      const leader = await c.etcd.leader();
      const follower = c.etcd.members.find((m) => m !== leader && m.running) as { kill(): Promise<void> };
      at();
      await follower.kill();
      return healEtcd(c);
    },
  });
}, 90000);

test('stop an etcd member and bring it back under load', async () => {
  await underLoad('f-restart-member', {
    name: 'member stopped and restarted',
    holdMs: 1500,
    inject: async (c, at) => {
      const member = c.etcd.members[1];
      at();
      await member?.stop();
      return async () => {
        await member?.start();
        await c.etcd.healthy();
      };
    },
  });
}, 90000);

test('freeze the etcd leader (SIGSTOP: hung, its connections open) under load', async () => {
  await underLoad('f-frozen-leader', {
    name: 'leader frozen',
    holdMs: 3500,
    inject: async (c, at) => {
      const leader = await c.etcd.leader();
      at();
      leader.freeze();
      return healEtcd(c);
    },
  });
}, 90000);

test('restart one Lucien node under load', async () => {
  await underLoad('f-restart-node', {
    name: 'Lucien node restarted',
    holdMs: 500,
    inject: async (c, at) => {
      const old = c.nodes[1];
      at();
      await old?.stop();
      await c.restartNode(1);
      return async () => undefined;
    },
  });
}, 120000);
