/**
 * The etcd backend's failover, against a real etcd, with the faults made
 * exact: a commit whose answer is lost after etcd applied it (it is settled
 * as committed, once, even when it was a compare-and-set), one whose request
 * was lost before etcd saw it (it is committed once by the next attempt, and
 * the lost request, delivered late, can no longer apply), one etcd refuses
 * on its merits (not retried); and a backend given a dead endpoint first,
 * which routes around it, and one with no live endpoint, which gives up
 * within its failover window with UNAVAILABLE.
 */
import { Etcd3, type ITxnRequest } from 'etcd3';
import { type EtcdCluster, startEtcdCluster } from '../../scripts/cluster/etcd-cluster';
import { EtcdCommitter } from '../../src/storage/etcd-apply';
import { DEFAULT_FAILOVER, MemberGates } from '../../src/storage/etcd-failover';
import { EtcdCallError, type EtcdKv, LeanEtcdKv } from '../../src/storage/etcd-kv';
import type { TxnResult } from '../../src/storage/etcd-wire';
import { EtcdLayout } from '../../src/storage/etcd-layout';
import { EtcdBackend } from '../../src/storage/etcd';
import { rejection } from '../conformance/storage';

let etcd: EtcdCluster;
let raw: Etcd3;
/** The client the backend commits through. */
let lean: LeanEtcdKv;
let namespaces = 0;

beforeAll(async () => {
  etcd = await startEtcdCluster({ size: 1 });
  raw = new Etcd3({ hosts: etcd.endpoints });
  lean = new LeanEtcdKv([etcd.endpoints], new MemberGates(1000));
}, 30000);

afterAll(async () => {
  raw?.close();
  lean?.close();
  await etcd?.stop();
});

/** The real client, except that txn goes through `txn` (which may lose requests or answers). */
function faulty(
  txn: (request: ITxnRequest, real: (r: ITxnRequest) => Promise<TxnResult>) => Promise<TxnResult>,
): EtcdKv {
  return {
    range: (r, options) => lean.range(r, options),
    txn: (r, options) => txn(r, (request) => lean.txn(request, options)),
  };
}

function setup() {
  const layout = new EtcdLayout(`failover${++namespaces}/`);
  const committer = new EtcdCommitter(layout, 1000, { ...DEFAULT_FAILOVER, windowMs: 3000 });
  const value = async (key: string) => (await raw.get(layout.data(key).toString()).string()) ?? undefined;
  const modRevision = async (key: string) =>
    Number((await raw.kv.range({ key: layout.data(key) })).kvs[0]?.mod_revision ?? 0);
  /** How many times the key was written (etcd's version). */
  const writes = async (key: string) => Number((await raw.kv.range({ key: layout.data(key) })).kvs[0]?.version ?? 0);
  return { layout, committer, value, modRevision, writes };
}

const put = (key: string, value: string) => ({ type: 'put' as const, key, value });
const lost = () => new EtcdCallError(4, 'DEADLINE_EXCEEDED: the answer was lost');

test('a commit applied by etcd whose answer was lost is settled as committed, at its revision, once', async () => {
  const { committer, value, modRevision, writes } = setup();
  let calls = 0;
  const client = faulty(async (request, real) => {
    calls++;
    const res = await real(request);
    if (calls === 1) throw lost();
    return res;
  });
  const result = await committer.apply(client, [put('k', '{"n":1}')], []);
  expect(calls).toBe(2);
  expect(result.revision).toBe(await modRevision('k'));
  expect(await value('k')).toBe('{"n":1}');
  expect(await writes('k')).toBe(1);
});

test('a compare-and-set applied with its answer lost succeeds, not CONDITION_FAILED against its own write', async () => {
  const { committer, modRevision } = setup();
  const first = await committer.apply(lean, [put('k', '{"n":1}')], []);
  let calls = 0;
  const client = faulty(async (request, real) => {
    const res = await real(request);
    if (++calls === 1) throw lost();
    return res;
  });
  const result = await committer.apply(
    client,
    [put('k', '{"n":2}')],
    [{ type: 'key', key: 'k', modRevision: first.revision }],
  );
  expect(result.revision).toBe(await modRevision('k'));
  expect(result.revision).toBeGreaterThan(first.revision);
  // A compare-and-set that really fails still says so, and writes nothing.
  const err = await rejection(
    committer.apply(lean, [put('k', '{"n":3}')], [{ type: 'key', key: 'k', modRevision: first.revision }]),
  );
  expect(err).toMatchObject({ code: 'CONDITION_FAILED', details: { key: 'k' } });
});

test('a request lost before etcd saw it is committed once by the next attempt, and can no longer apply when it arrives late', async () => {
  const { committer, value, writes } = setup();
  let held: ITxnRequest | undefined;
  const client = faulty(async (request, real) => {
    if (held === undefined) {
      held = request;
      throw lost();
    }
    return real(request);
  });
  await committer.apply(client, [put('k', '{"attempt":"any"}')], []);
  expect(await writes('k')).toBe(1);
  await committer.apply(lean, [put('k', '{"later":true}')], []);
  // The first attempt, delivered now, fails its slot compare: it would otherwise undo the later write.
  const late = await raw.kv.txn(held as ITxnRequest);
  expect(late.succeeded).toBe(false);
  expect(await value('k')).toBe('{"later":true}');
});

test('a commit etcd refuses on its merits is not retried, and a commit that found no member gives up within the window saying its outcome is unknown', async () => {
  const { committer, value } = setup();
  let calls = 0;
  const many = Array.from({ length: 200 }, (_, i) => put(`bulk/${i}`, '{}'));
  const refused = await rejection(
    committer.apply(
      faulty(async (r, real) => (calls++, real(r))),
      many,
      [],
    ),
  );
  expect(refused.code).toBe('INVALID_ARGUMENT');
  expect(calls).toBe(1);
  const short = new EtcdCommitter(setup().layout, 1000, { ...DEFAULT_FAILOVER, windowMs: 400 });
  const started = Date.now();
  const unknown = (await rejection(
    short.apply(
      faulty(async () => Promise.reject(lost())),
      [put('k', '{}')],
      [],
    ),
  )) as { code?: string; message?: string };
  expect(unknown.code).toBe('UNAVAILABLE');
  expect(unknown.message).toMatch(/may or may not/);
  expect(Date.now() - started).toBeLessThan(3000);
  expect(await value('bulk/0')).toBeUndefined();
});

test('a backend whose first endpoint is dead routes around it; one with no live endpoint fails with UNAVAILABLE within its window', async () => {
  const backend = new EtcdBackend({
    endpoints: ['127.0.0.1:1', etcd.endpoints],
    namespace: `failover${++namespaces}/`,
    failover: { windowMs: 2000 },
  });
  await backend.open();
  try {
    for (let i = 0; i < 20; i++) {
      const { revision } = await backend.commit([put(`k${i}`, '{}')]);
      expect((await backend.get(`k${i}`))?.modRevision).toBe(revision);
    }
  } finally {
    await backend.close();
  }
  const dead = new EtcdBackend({
    endpoints: ['127.0.0.1:1', '127.0.0.1:2'],
    failover: { windowMs: 300, attemptTimeoutMs: 200 },
  });
  const started = Date.now();
  expect((await rejection(dead.open())).code).toBe('UNAVAILABLE');
  expect(Date.now() - started).toBeLessThan(5000);
});

describe('on a 3-member cluster', () => {
  let three: EtcdCluster;
  beforeAll(async () => {
    three = await startEtcdCluster({ size: 3 });
  }, 30000);
  afterAll(async () => {
    await three?.stop();
  });

  test('the change feed moves off a member that hangs: subscribers still get every commit while it is frozen', async () => {
    const backend = new EtcdBackend({
      endpoints: three.members.map((m) => m.endpoint),
      namespace: `feed${++namespaces}/`,
    });
    await backend.open();
    const seen: number[] = [];
    const unsubscribe = backend.subscribe((changes) => changes.forEach((c) => seen.push(c.revision)));
    try {
      const first = await backend.commit([put('a', '{}')]);
      await eventually(() => seen.includes(first.revision), 5000);
      // White-box: the member the feed's watch is on now.
      const endpoint = (backend as unknown as { feed: { endpoint: string } }).feed.endpoint;
      const member = three.members.find((m) => m.endpoint === endpoint);
      member?.freeze();
      const frozenAt = Date.now();
      const { revision } = await backend.commit([put('b', '{}')]);
      await eventually(() => seen.includes(revision), 10000);
      expect(member?.frozen).toBe(true);
      expect(Date.now() - frozenAt).toBeLessThan(10000);
      expect((backend as unknown as { feed: { endpoint: string } }).feed.endpoint).not.toBe(endpoint);
    } finally {
      unsubscribe();
      for (const m of three.members) m.thaw();
      await backend.close();
    }
  }, 30000);
});

async function eventually(ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
