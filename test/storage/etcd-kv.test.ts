/**
 * The etcd backend's lean KV client (etcd-kv.ts, etcd-wire.ts) against a real
 * etcd: it reads exactly what etcd3 reads for the same requests (every field
 * the backend uses), a compare against mod_revision 0 means "absent", etcd's
 * refusals keep their meaning, and failures carry the right code: a member
 * that is gone or never answers is transient (another attempt may help), one
 * that refuses on the merits is not. Then the backend with etcd killed in the
 * middle of an operation: nothing half-written, UNAVAILABLE as documented.
 */
import { createServer, type Server } from 'node:net';
import { Etcd3, type IRangeRequest, type ITxnRequest } from 'etcd3';
import { EtcdCommitter } from '../../src/storage/etcd-apply';
import { DEFAULT_FAILOVER, MemberGates, isRefusal, isTransient } from '../../src/storage/etcd-failover';
import { isCompacted, toLucienError } from '../../src/storage/etcd-io';
import { EtcdCallError, type EtcdKv, LeanEtcdKv } from '../../src/storage/etcd-kv';
import { EtcdLayout, modBelow, modEquals, rangeOf } from '../../src/storage/etcd-layout';
import { EtcdBackend } from '../../src/storage/etcd';
import { rejection } from '../conformance/storage';
import { type RunningEtcd, startEtcd, waitFor } from '../helpers/etcd';

let etcd: RunningEtcd;
let raw: Etcd3;
let lean: LeanEtcdKv;

beforeAll(async () => {
  etcd = await startEtcd();
  raw = new Etcd3({ hosts: etcd.endpoint });
  lean = new LeanEtcdKv([etcd.endpoint], new MemberGates(1000));
}, 30000);

afterAll(async () => {
  raw?.close();
  lean?.close();
  await etcd?.stop();
});

const b = (s: string) => Buffer.from(s);
/** What the backend reads of a range answer, the same from either client. */
const rangeView = (r: { header: { revision: string | number }; kvs: readonly Kv[]; more: boolean }) => ({
  revision: Number(r.header.revision),
  more: r.more,
  kvs: r.kvs.map(kvView),
});
type Kv = { key: Buffer; value: Buffer; create_revision: string | number; mod_revision: string | number };
const kvView = (kv: Kv) => ({
  key: kv.key.toString(),
  value: kv.value.toString(),
  create: Number(kv.create_revision),
  mod: Number(kv.mod_revision),
});

test('ranges read the same through the lean client as through etcd3: bounds, limit, keys only, a past revision, a mod_revision floor', async () => {
  await raw.put('w/a').value('1');
  const { header } = await raw.kv.put({ key: b('w/b'), value: b('{"x":2}') });
  await raw.put('w/c').value('3');
  await raw.put('w/a').value('11');
  const requests: IRangeRequest[] = [
    { key: b('w/a') },
    { key: b('w/nothing') },
    { ...rangeOf(b('w/')) },
    { ...rangeOf(b('w/')), limit: 2 },
    { ...rangeOf(b('w/')), keys_only: true },
    { ...rangeOf(b('w/')), revision: Number(header.revision) },
    { ...rangeOf(b('w/')), min_mod_revision: Number(header.revision) + 1 },
    { ...rangeOf(b('w/')), max_mod_revision: Number(header.revision) },
  ];
  for (const request of requests) {
    const [mine, theirs] = await Promise.all([lean.range(request), raw.kv.range(request)]);
    expect(rangeView(mine)).toEqual(rangeView(theirs));
  }
  expect((await lean.range({ ...rangeOf(b('w/')), limit: 2 })).more).toBe(true);
});

test('a Txn reads and writes the same through the lean client: compares (equal, less, mod_revision 0 for absent), both branches, positions of the answers', async () => {
  const { header } = await raw.kv.put({ key: b('t/k'), value: b('v') });
  const k = Number(header.revision);
  const txn = (compare: ITxnRequest['compare']): ITxnRequest => ({
    compare,
    success: [{ request_range: { key: b('t/k') } }, { request_put: { key: b('t/other'), value: b('o') } }],
    failure: [{ request_put: { key: b('t/failed'), value: b('f') } }, { request_range: { ...rangeOf(b('t/')) } }],
  });
  // mod_revision 0 is "absent": true for a key never written, false for t/k.
  const absent = await lean.txn(txn([modEquals(b('t/never'), 0)]));
  expect(absent.succeeded).toBe(true);
  expect(absent.responses[0]?.response_range?.kvs.map(kvView)).toEqual([{ key: 't/k', value: 'v', create: k, mod: k }]);
  expect(absent.responses[1]?.response_range).toBeUndefined();
  expect(absent.header.revision).toBe(k + 1);
  const present = await lean.txn(txn([modEquals(b('t/k'), 0)]));
  expect(present.succeeded).toBe(false);
  expect(present.responses[0]?.response_range).toBeUndefined();
  expect(present.responses[1]?.response_range?.kvs.map((kv) => kv.key.toString())).toEqual([
    't/failed',
    't/k',
    't/other',
  ]);
  expect((await lean.txn(txn([modEquals(b('t/k'), k), modBelow(rangeOf(b('t/')), k + 3)]))).succeeded).toBe(true);
  expect((await lean.txn(txn([modBelow(rangeOf(b('t/')), k + 1)]))).succeeded).toBe(false);
  // etcd3 reads the same store the same way.
  const theirs = await raw.kv.range({ ...rangeOf(b('t/')) });
  expect(rangeView(await lean.range({ ...rangeOf(b('t/')) }))).toEqual(rangeView(theirs));
});

test("etcd's refusals keep their meaning: compacted, too many operations, not transient", async () => {
  const { header } = await raw.kv.put({ key: b('c/k'), value: b('1') });
  await raw.put('c/k').value('2');
  await raw.kv.compact({ revision: Number(header.revision) + 1 });
  const compacted = await rejection(lean.range({ key: b('c/k'), revision: Number(header.revision) }));
  expect(isCompacted(compacted)).toBe(true);
  expect(isTransient(compacted)).toBe(false);
  expect(toLucienError(compacted).code).toBe('COMPACTED');
  const ops = Array.from({ length: 200 }, (_, i) => ({ request_put: { key: b(`c/${i}`), value: b('x') } }));
  const tooMany = await rejection(lean.txn({ compare: [], success: ops, failure: [] }));
  expect(isRefusal(tooMany)).toBe(true);
  expect(isTransient(tooMany)).toBe(false);
  expect(toLucienError(tooMany).code).toBe('INVALID_ARGUMENT');
  expect((await raw.kv.range({ key: b('c/0') })).kvs).toEqual([]);
});

test('a member that is gone fails at once and transiently; one that never answers fails at its deadline; both are skipped while another is good', async () => {
  const silent: Server = createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as { port: number }).port;
  try {
    const gates = new MemberGates(60_000);
    const one = new LeanEtcdKv([`127.0.0.1:${port}`], gates);
    const started = Date.now();
    const late = await rejection(one.range({ key: b('x') }, { deadline: Date.now() + 200 }));
    expect(late).toBeInstanceOf(EtcdCallError);
    expect((late as unknown as EtcdCallError).code).toBe(4);
    expect(isTransient(late)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
    one.close();
    const gone = new LeanEtcdKv(['127.0.0.1:1'], new MemberGates(1000));
    const refused = await rejection(gone.range({ key: b('x') }, { deadline: Date.now() + 2000 }));
    expect((refused as unknown as EtcdCallError).code).toBe(14);
    expect(isTransient(refused)).toBe(true);
    gone.close();
    // With a dead member and a live one, after one failure every call goes to the live one.
    const mixed = new LeanEtcdKv(['127.0.0.1:1', etcd.endpoint], new MemberGates(60_000));
    const outcomes = [];
    for (let i = 0; i < 6; i++)
      outcomes.push(
        await mixed.range({ key: b('x') }).then(
          () => 'ok',
          () => 'failed',
        ),
      );
    expect(outcomes.filter((o) => o === 'failed').length).toBeLessThanOrEqual(1);
    mixed.close();
  } finally {
    silent.close();
  }
});

describe('etcd killed in the middle of an operation', () => {
  let namespaces = 0;
  const ns = () => `killed${++namespaces}/`;
  let down = false;
  const kill = async () => {
    down = true;
    await etcd.kill();
  };
  const restart = async () => {
    down = false;
    await etcd.restart();
  };

  afterEach(async () => {
    if (down) await restart();
  }, 30000);

  test('a commit whose read went through and whose Txn found etcd gone writes nothing and fails UNAVAILABLE; the connection comes back with etcd', async () => {
    const layout = new EtcdLayout(ns());
    const committer = new EtcdCommitter(layout, 1000, { ...DEFAULT_FAILOVER, windowMs: 800, attemptTimeoutMs: 300 });
    await committer.apply(lean, [{ type: 'put', key: 'a', value: '{"n":1}' }], []);
    let calls = 0;
    // A delete makes the commit read first: etcd dies between that read and the Txn.
    const dying: EtcdKv = {
      range: (r, o) => lean.range(r, o),
      txn: async (r, o) => {
        if (++calls === 2) await kill();
        return lean.txn(r, o);
      },
    };
    const err = await rejection(
      committer.apply(
        dying,
        [
          { type: 'delete', key: 'a' },
          { type: 'put', key: 'b', value: '{"n":2}' },
        ],
        [],
      ),
    );
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(err).toMatchObject({ code: 'UNAVAILABLE' });
    await restart();
    const after = await lean.range({ ...rangeOf(layout.data('')) });
    expect(after.kvs.map(kvView).map(({ key, value }) => [key, value])).toEqual([
      [layout.data('a').toString(), '{"n":1}'],
    ]);
  }, 30000);

  test('a backend whose etcd dies between a snapshot read and the commit: the run-like sequence fails UNAVAILABLE and writes nothing; after etcd returns it reads and commits again', async () => {
    const backend = new EtcdBackend({
      endpoints: [etcd.endpoint],
      namespace: ns(),
      failover: { windowMs: 800, attemptTimeoutMs: 300 },
    });
    await backend.open();
    try {
      const first = await backend.commit([{ type: 'put', key: 'n', value: '{"n":1}' }]);
      const snapshot = await backend.snapshot();
      const seen = await snapshot.get('n');
      expect(seen?.modRevision).toBe(first.revision);
      await snapshot.release();
      await kill();
      const err = await rejection(
        backend.commit(
          [{ type: 'put', key: 'n', value: '{"n":2}' }],
          [{ type: 'key', key: 'n', modRevision: first.revision }],
        ),
      );
      expect(err).toMatchObject({ code: 'UNAVAILABLE' });
      expect((await rejection(backend.get('n'))).code).toBe('UNAVAILABLE');
      await restart();
      const kv = await waitFor(() => backend.get('n'));
      // The commit was refused before etcd had it (connection refused): the value is the first one.
      expect(kv?.value).toBe('{"n":1}');
      const again = await backend.commit(
        [{ type: 'put', key: 'n', value: '{"n":2}' }],
        [{ type: 'key', key: 'n', modRevision: first.revision }],
      );
      expect((await backend.get('n'))?.modRevision).toBe(again.revision);
    } finally {
      await backend.close();
    }
  }, 30000);
});
