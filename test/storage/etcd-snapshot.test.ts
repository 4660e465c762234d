/**
 * An etcd snapshot taken with its first reads (Backend.snapshot(firstRead)):
 * one Txn gives the revision and those keys, so they must be exactly what a
 * snapshot at that revision reads: the revision is that of the last commit
 * the reads saw, later commits (by another server) are invisible to both the
 * keys read with it and the keys read after, a reborn key keeps its create
 * revision, more keys than fit one Txn fall back to two steps, and a released
 * snapshot answers nothing. Against a real etcd, two backends on it.
 */
import type { KeyValue, Snapshot } from '../../src/storage/backend';
import { EtcdBackend } from '../../src/storage/etcd';
import type { LeanEtcdKv } from '../../src/storage/etcd-kv';
import { rejection } from '../conformance/storage';
import { type RunningEtcd, startEtcd, waitFor } from '../helpers/etcd';

let etcd: RunningEtcd;
let namespaces = 0;
let a: EtcdBackend;
let b: EtcdBackend;

beforeAll(async () => {
  etcd = await startEtcd();
}, 30000);

afterAll(async () => {
  await etcd?.stop();
});

beforeEach(async () => {
  const namespace = `first${++namespaces}/`;
  a = new EtcdBackend({ endpoints: [etcd.endpoint], namespace });
  b = new EtcdBackend({ endpoints: [etcd.endpoint], namespace });
  await Promise.all([a.open(), b.open()]);
});

afterEach(async () => {
  await Promise.all([a.close(), b.close()]);
});

const put = (key: string, value: string) => ({ type: 'put' as const, key, value });
const del = (key: string) => ({ type: 'delete' as const, key });

async function readAndRelease(snapshot: Snapshot, keys: readonly string[]): Promise<(KeyValue | undefined)[]> {
  try {
    return await snapshot.getMany(keys);
  } finally {
    await snapshot.release();
  }
}

test('the revision read with the first keys is the one those reads saw, and later commits by another server stay invisible', async () => {
  const first = await a.commit([put('x', '{"n":1}')]);
  const second = await b.commit([put('y', '{"n":1}')]);
  // White-box: the snapshot and its first reads are one call to etcd (one Txn, no Range of the marker).
  const lean = (a as unknown as { lean: LeanEtcdKv }).lean;
  const range = jest.spyOn(lean, 'range');
  const txn = jest.spyOn(lean, 'txn');
  const snapshot = await a.snapshot(['x', 'y', 'absent']);
  expect(snapshot.revision).toBe(second.revision);
  const seen = await snapshot.getMany(['x', 'y', 'absent']);
  expect([range.mock.calls.length, txn.mock.calls.length]).toEqual([0, 1]);
  range.mockRestore();
  txn.mockRestore();
  expect(seen.map((kv) => kv?.modRevision)).toEqual([first.revision, second.revision, undefined]);
  // Another server changes a key read with the revision and one read later, in one commit.
  const third = await b.commit([put('x', '{"n":2}'), put('z', '{"n":1}')]);
  expect(third.revision).toBeGreaterThan(snapshot.revision);
  expect((await snapshot.get('x'))?.value).toBe('{"n":1}');
  expect(await snapshot.get('z')).toBeUndefined();
  // Keys partly read with the revision are read at it too.
  expect((await snapshot.getMany(['x', 'z'])).map((kv) => kv?.value)).toEqual(['{"n":1}', undefined]);
  await snapshot.release();
  expect((await rejection(snapshot.get('x'))).code).toBe('INTERNAL');
  // A new snapshot, either way, sees the third commit.
  expect((await readAndRelease(await b.snapshot(['x', 'z']), ['x', 'z'])).map((kv) => kv?.value)).toEqual([
    '{"n":2}',
    '{"n":1}',
  ]);
});

test('with or without its first keys a snapshot reads the same: values, create revisions of reborn keys, absent keys, a namespace without commits', async () => {
  const empty = await a.snapshot(['nothing']);
  const plain = await a.snapshot();
  expect(empty.revision).toBe(plain.revision);
  expect(await readAndRelease(empty, ['nothing'])).toEqual([undefined]);
  await plain.release();
  await a.commit([put('r', '{"v":1}'), put('s', '{"v":1}')]);
  // Deleted and put again in one commit: its create revision is the commit's (a rebirth mark).
  const reborn = await b.commit([del('r'), put('r', '{"v":2}'), del('s')]);
  const keys = ['r', 's', 'nothing'];
  const fused = await readAndRelease(await a.snapshot(keys), keys);
  const twoSteps = await readAndRelease(await a.snapshot(), keys);
  expect(fused).toEqual(twoSteps);
  expect(fused[0]).toMatchObject({ value: '{"v":2}', createRevision: reborn.revision, modRevision: reborn.revision });
  expect(fused.slice(1)).toEqual([undefined, undefined]);
});

test('more first keys than one Txn holds: the snapshot falls back to the marker, then reads, with the same answers', async () => {
  const keys = Array.from({ length: 60 }, (_, i) => `k${i}`);
  const { revision } = await a.commit(keys.map((key, i) => put(key, `{"i":${i}}`)));
  const snapshot = await b.snapshot(keys);
  expect(snapshot.revision).toBe(revision);
  const found = await readAndRelease(snapshot, keys);
  expect(found.map((kv) => kv?.value)).toEqual(keys.map((_, i) => `{"i":${i}}`));
});

test('etcd gone when a snapshot with first keys is taken: UNAVAILABLE within the failover window, and fine once it is back', async () => {
  const short = new EtcdBackend({
    endpoints: [etcd.endpoint],
    namespace: `first${namespaces}/`,
    failover: { windowMs: 600, attemptTimeoutMs: 200 },
  });
  await short.open();
  try {
    await short.commit([put('k', '{}')]);
    await etcd.kill();
    try {
      const started = Date.now();
      expect((await rejection(short.snapshot(['k']))).code).toBe('UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await etcd.restart();
    }
    const snapshot = await waitFor(() => short.snapshot(['k']));
    expect((await readAndRelease(snapshot, ['k']))[0]?.value).toBe('{}');
  } finally {
    await short.close();
  }
}, 30000);
