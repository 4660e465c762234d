/**
 * The measurements, as cells grouped for side-by-side runs: every cell of a
 * group is measured once per repetition, alternating the order, so the
 * ratios the targets use compare numbers taken minutes apart at most and
 * under the same background load.
 */
import type * as grpc from '@grpc/grpc-js';
import type { LucienClient } from '../../src/generated/lucien/v1/Lucien';
import { drive, type Op, type Sample } from './drive';
import { type EtcdLean, encodeEtcdPut, encodeRange, encodeRangePrefix } from './etcd-client';
import { KV_BUCKET, KV_KEYS, KV_VALUE, POST_KEY } from './fixtures';
import {
  BATCH_ENTRIES,
  ENTRY_VALUE,
  encodeBatchGet,
  encodeGet,
  encodeList,
  encodePut,
  encodeRun,
  type LucienLean,
} from './lucien-client';
import type { PingPong, PingPongMode } from './pingpong';
import type { Resp } from './resp';
import { walk } from './wire';

export type System = 'lucien' | 'lucien-etcd' | 'etcd' | 'redis' | 'echo' | 'pipe';

export interface Cell {
  readonly id: string;
  readonly label: string;
  readonly system: System;
  readonly concurrency: number;
  /** Measures for about `ms` milliseconds. */
  run(ms: number): Promise<Sample>;
}

export interface Group {
  readonly name: string;
  readonly cells: readonly Cell[];
  /** Sample the server's memory while this group runs (memory under load). */
  readonly sampleMemory?: boolean;
}

export interface Clients {
  readonly lucien: LucienLean;
  readonly echo: LucienLean | undefined;
  readonly etcd: EtcdLean | undefined;
  /** A second Lucien, on the etcd peer (LUCIEN_BACKEND=etcd), when etcd is installed. */
  readonly lucienEtcd: LucienLean | undefined;
  readonly redis: Resp | undefined;
  readonly redisRenderSha: string | undefined;
  readonly grpcJs: LucienClient | undefined;
  readonly pingPong: PingPong;
}

export const LEVELS = [1, 16, 64] as const;
export const BRIDGE_CALLS = 200;

const cell = (id: string, label: string, system: System, concurrency: number, op: Op): Cell => ({
  id,
  label,
  system,
  concurrency,
  run: (ms) => drive(op, concurrency, ms),
});

/** n pre-encoded requests, used round-robin so encoding stays out of the timed loop. */
function ring(n: number, make: (i: number) => Buffer): (i: number) => Buffer {
  const all = Array.from({ length: n }, (_, i) => make(i));
  return (i) => all[i % n] as Buffer;
}

/** The naive client: the same 21 reads as render_post, one Get after another. */
export async function naiveRender(c: LucienLean): Promise<unknown> {
  const post = JSON.parse(await c.get('posts', POST_KEY)) as { comments: string[] };
  const comments: Record<string, unknown>[] = [];
  for (const key of post.comments) {
    const comment = JSON.parse(await c.get('comments', key)) as Record<string, unknown>;
    comment.user = JSON.parse(await c.get('users', comment.user_key as string));
    comments.push(comment);
  }
  return { ...post, comments };
}

/** A batching client: one Get for the post, one BatchGet for the comments, one for the users. */
export async function batchRender(c: LucienLean): Promise<unknown> {
  const post = JSON.parse(await c.get('posts', POST_KEY)) as { comments: string[] };
  const values = async (bucket: string, keys: string[]) => {
    const out: Record<string, unknown>[] = [];
    walk(await c.rpc.unary('/lucien.v1.Lucien/BatchGet', encodeBatchGet(bucket, keys)), (f, entry) => {
      if (f !== BATCH_ENTRIES || typeof entry === 'number') return;
      walk(entry, (g, v) => {
        if (g === ENTRY_VALUE && typeof v !== 'number')
          out.push(JSON.parse(v.toString('utf8')) as Record<string, unknown>);
      });
    });
    return out;
  };
  const comments = await values('comments', post.comments);
  const users = await values(
    'users',
    comments.map((x) => x.user_key as string),
  );
  comments.forEach((x, i) => {
    x.user = users[i];
  });
  return { ...post, comments };
}

export function keyValueGroups(c: Clients): Group[] {
  const get = ring(KV_KEYS, (i) => encodeGet(KV_BUCKET, `k${i}`));
  const put = ring(KV_KEYS, (i) => encodePut(KV_BUCKET, `k${i}`, KV_VALUE));
  const batch = ring(100, (i) =>
    encodeBatchGet(
      KV_BUCKET,
      Array.from({ length: 10 }, (_, j) => `k${(i * 10 + j) % KV_KEYS}`),
    ),
  );
  const list = encodeList(KV_BUCKET, '', 100);
  const etcdGet = ring(KV_KEYS, (i) => encodeRange(`${KV_BUCKET}/k${i}`));
  const etcdPut = ring(KV_KEYS, (i) => encodeEtcdPut(`${KV_BUCKET}/k${i}`, KV_VALUE));
  const etcdList = encodeRangePrefix(`${KV_BUCKET}/`, 100);
  return LEVELS.map((n) => {
    const cells: Cell[] = [
      cell(`get@${n}`, 'Get', 'lucien', n, (i) => c.lucien.getEncoded(get(i))),
      cell(`put@${n}`, 'Put', 'lucien', n, (i) => c.lucien.putEncoded(put(i))),
      cell(`batchget@${n}`, 'BatchGet (10 keys)', 'lucien', n, (i) => c.lucien.batchGetEncoded(batch(i))),
      cell(`list@${n}`, 'List (100 keys)', 'lucien', n, () => c.lucien.listEncoded(list)),
    ];
    const { echo, etcd } = c;
    if (echo !== undefined)
      cells.push(cell(`echo@${n}`, 'grpc-js echo (Get)', 'echo', n, (i) => echo.getEncoded(get(i))));
    if (etcd !== undefined) {
      cells.push(
        cell(`etcd-get@${n}`, 'etcd Range (1 key)', 'etcd', n, (i) => etcd.rangeEncoded(etcdGet(i))),
        cell(`etcd-put@${n}`, 'etcd Put', 'etcd', n, (i) => etcd.putEncoded(etcdPut(i))),
        cell(`etcd-list@${n}`, 'etcd Range (100 keys)', 'etcd', n, () => etcd.rangeEncoded(etcdList)),
      );
    }
    return { name: `key-value, concurrency ${n}`, cells };
  });
}

/**
 * Lucien on etcd against etcd direct, side by side on the same etcd: a Get
 * (one read-only Txn) against a Range; a Put (one Txn with its marker and
 * commit slot) against a Put; a script increment on a key of each client's
 * own against the client-side increment an etcd user writes (Range, then a
 * Txn guarded by the mod_revision read).
 */
export function etcdBackendGroups(c: Clients): Group[] {
  const { etcd, lucienEtcd } = c;
  if (etcd === undefined || lucienEtcd === undefined) return [];
  const get = ring(KV_KEYS, (i) => encodeGet(KV_BUCKET, `k${i}`));
  const put = ring(KV_KEYS, (i) => encodePut(KV_BUCKET, `k${i}`, KV_VALUE));
  const etcdGet = ring(KV_KEYS, (i) => encodeRange(`${KV_BUCKET}/k${i}`));
  const etcdPut = ring(KV_KEYS, (i) => encodeEtcdPut(`${KV_BUCKET}/k${i}`, KV_VALUE));
  const incr = Array.from({ length: 64 }, (_, w) => encodeRun('bench_incr_js', JSON.stringify([`etcd_${w}`])));
  const etcdKeys = Array.from({ length: 64 }, (_, w) => Buffer.from(`counters/etcd_${w}`));
  return [1, 16].map((n) => ({
    name: `Lucien on etcd vs etcd direct, concurrency ${n}`,
    cells: [
      cell(`eb-get@${n}`, 'Get', 'lucien-etcd', n, (i) => lucienEtcd.getEncoded(get(i))),
      cell(`eb-etcd-get@${n}`, 'etcd Range (1 key)', 'etcd', n, (i) => etcd.rangeEncoded(etcdGet(i))),
      cell(`eb-put@${n}`, 'Put', 'lucien-etcd', n, (i) => lucienEtcd.putEncoded(put(i))),
      cell(`eb-etcd-put@${n}`, 'etcd Put', 'etcd', n, (i) => etcd.putEncoded(etcdPut(i))),
      cell(`eb-incr@${n}`, 'Run increment (JavaScript), own key per client', 'lucien-etcd', n, (_i, w) =>
        lucienEtcd.runEncoded(incr[w] as Buffer),
      ),
      cell(`eb-etcd-incr@${n}`, 'etcd Range + Txn increment, own key per client', 'etcd', n, (_i, w) =>
        etcd.increment(etcdKeys[w] as Buffer),
      ),
    ],
  }));
}

export function scriptGroups(c: Clients): Group[] {
  const get = ring(KV_KEYS, (i) => encodeGet(KV_BUCKET, `k${i}`));
  const runOf = (name: string, args = JSON.stringify([POST_KEY])) => {
    const request = encodeRun(name, args);
    return () => c.lucien.runEncoded(request);
  };
  const { redis, redisRenderSha } = c;
  const redisRender = () => (redis as Resp).command(['EVALSHA', redisRenderSha as string, '0', POST_KEY]);
  const latency: Cell[] = [
    cell('s1-get', 'Get', 'lucien', 1, (i) => c.lucien.getEncoded(get(i))),
    cell('s1-trivial-js', 'Run `result = 1` (JavaScript)', 'lucien', 1, runOf('bench_trivial_js', '[]')),
    cell('s1-trivial-py', 'Run `result = 1` (Python)', 'lucien', 1, runOf('bench_trivial_py', '[]')),
    cell('s1-naive', 'naive client: 21 Gets', 'lucien', 1, () => naiveRender(c.lucien)),
    cell('s1-batch', 'batching client: Get + 2 BatchGets', 'lucien', 1, () => batchRender(c.lucien)),
    cell('s1-render-py', 'Run render_post (Python, seed verbatim)', 'lucien', 1, runOf('render_post_py')),
    cell('s1-render-js', 'Run render_post (JavaScript)', 'lucien', 1, runOf('render_post_js')),
    cell('s1-many-py', 'Run render_post with getMany (Python)', 'lucien', 1, runOf('render_post_many_py')),
    cell('s1-many-js', 'Run render_post with getMany (JavaScript)', 'lucien', 1, runOf('render_post_many_js')),
  ];
  const throughput: Cell[] = [
    cell('s16-get', 'Get', 'lucien', 16, (i) => c.lucien.getEncoded(get(i))),
    cell('s16-naive', 'naive client: 21 Gets', 'lucien', 16, () => naiveRender(c.lucien)),
    cell('s16-render-py', 'Run render_post (Python, seed verbatim)', 'lucien', 16, runOf('render_post_py')),
    cell('s16-render-js', 'Run render_post (JavaScript)', 'lucien', 16, runOf('render_post_js')),
    cell('s16-many-py', 'Run render_post with getMany (Python)', 'lucien', 16, runOf('render_post_many_py')),
    cell('s16-many-js', 'Run render_post with getMany (JavaScript)', 'lucien', 16, runOf('render_post_many_js')),
  ];
  if (redis !== undefined && redisRenderSha !== undefined) {
    latency.push(cell('s1-redis', 'Redis EVALSHA render_post (Lua)', 'redis', 1, redisRender));
    throughput.push(cell('s16-redis', 'Redis EVALSHA render_post (Lua)', 'redis', 16, redisRender));
  }
  const incr = (name: string, hot: boolean) => {
    const hotRequest = encodeRun(name, JSON.stringify(['hot']));
    const own = Array.from({ length: 8 }, (_, w) => encodeRun(name, JSON.stringify([`key_${w}`])));
    return (_i: number, w: number) => c.lucien.runEncoded(hot ? hotRequest : (own[w] as Buffer));
  };
  const hot: Cell[] = [
    cell('hot-js', 'increment, 8 clients, 1 hot key (JavaScript)', 'lucien', 8, incr('bench_incr_js', true)),
    cell(
      'distinct-js',
      'increment, 8 clients, 8 distinct keys (JavaScript)',
      'lucien',
      8,
      incr('bench_incr_js', false),
    ),
    cell('hot-py', 'increment, 8 clients, 1 hot key (Python)', 'lucien', 8, incr('bench_incr_py', true)),
    cell('distinct-py', 'increment, 8 clients, 8 distinct keys (Python)', 'lucien', 8, incr('bench_incr_py', false)),
  ];
  let n = 0;
  const pp = (id: string, label: string, mode: PingPongMode): Cell => ({
    id,
    label,
    system: 'pipe',
    concurrency: 1,
    run: (ms) =>
      c.pingPong.measure(
        ms,
        JSON.stringify({ t: 'call', op: 'get', bucket: KV_BUCKET, key: `k${n++ % KV_KEYS}` }),
        mode,
      ),
  });
  const bridge: Cell[] = [
    pp('pingpong', 'bare ping-pong over fd 3/4 pipes (blocking child, event-loop parent)', 'bare'),
    pp('pingpong-json', 'ping-pong + JSON envelopes as the protocol frames them', 'json'),
    pp('pingpong-async', 'ping-pong + JSON + LevelDB read, async getMany with snapshot (as the bridge)', 'json+async'),
    pp('pingpong-sync', 'ping-pong + JSON + LevelDB read, getSync with snapshot', 'json+sync'),
    cell('bridge0-js', 'Run bridge loop, N=0 (JavaScript)', 'lucien', 1, runOf('bench_bridge_js', '[0]')),
    cell(
      `bridgeN-js`,
      `Run bridge loop, N=${BRIDGE_CALLS} gets (JavaScript)`,
      'lucien',
      1,
      runOf('bench_bridge_js', `[${BRIDGE_CALLS}]`),
    ),
    cell('bridge0-py', 'Run bridge loop, N=0 (Python)', 'lucien', 1, runOf('bench_bridge_py', '[0]')),
    cell(
      `bridgeN-py`,
      `Run bridge loop, N=${BRIDGE_CALLS} gets (Python)`,
      'lucien',
      1,
      runOf('bench_bridge_py', `[${BRIDGE_CALLS}]`),
    ),
  ];
  return [
    { name: 'scripts, concurrency 1 (latency)', cells: latency },
    { name: 'scripts, concurrency 16 (throughput)', cells: throughput, sampleMemory: true },
    { name: 'hot key, 8 clients', cells: hot, sampleMemory: true },
    { name: 'bridge call vs bare ping-pong', cells: bridge },
  ];
}

/** The load generator's own cost: the same Get through grpc-js and through the lean client. */
export function clientGroup(c: Clients): Group[] {
  const grpcJs = c.grpcJs;
  if (grpcJs === undefined) return [];
  const get = ring(KV_KEYS, (i) => encodeGet(KV_BUCKET, `k${i}`));
  const keyOf = (i: number) => `k${i % KV_KEYS}`;
  const viaGrpcJs: Op = (i) =>
    new Promise((resolve, reject) =>
      grpcJs.Get({ bucket: KV_BUCKET, key: keyOf(i) }, (err: grpc.ServiceError | null) =>
        err ? reject(err) : resolve(undefined),
      ),
    );
  return [
    {
      name: 'load client cost',
      cells: [
        cell('client-lean', 'Get through the lean HTTP/2 client', 'lucien', 16, (i) => c.lucien.getEncoded(get(i))),
        cell('client-grpcjs', 'Get through a grpc-js client', 'lucien', 16, viaGrpcJs),
      ],
    },
  ];
}
