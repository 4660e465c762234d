/**
 * Runs the storage conformance suite on EtcdBackend against a real etcd that
 * this file starts on 127.0.0.1 (free ports, a temp data dir) and stops at the
 * end, each case in a namespace of its own; then what only a shared store
 * shows: two servers (two EtcdBackends) on one etcd. No etcd installed is a
 * failure, never a skip: CI installs etcd-server.
 */
import { Etcd3 } from 'etcd3';
import type { Change } from '../../src/storage/backend';
import { EtcdBackend, type EtcdBackendOptions } from '../../src/storage/etcd';
import { eventually, read, readAll, rejection, storageSuite } from '../conformance/storage';
import { type RunningEtcd, startEtcd } from '../helpers/etcd';

let etcd: RunningEtcd | undefined;
let namespaces = 0;

beforeAll(async () => {
  etcd = await startEtcd();
}, 30000);

afterAll(async () => {
  await etcd?.stop();
});

function endpoint(): string {
  if (etcd === undefined) throw new Error('etcd did not start (see the beforeAll failure above)');
  return etcd.endpoint;
}

async function server(options: Partial<EtcdBackendOptions> = {}): Promise<EtcdBackend> {
  const backend = new EtcdBackend({ endpoints: [endpoint()], namespace: `ns${++namespaces}/`, ...options });
  await backend.open();
  return backend;
}

storageSuite({
  name: 'etcd',
  supports: new EtcdBackend({ endpoints: ['127.0.0.1:1'] }).supports,
  factory: async (options) => {
    const namespace = `conformance${++namespaces}/`;
    const make = () => new EtcdBackend({ endpoints: [endpoint()], namespace, ...options });
    let backend = make();
    await backend.open();
    return {
      backend,
      reopen: async () => {
        await backend.close();
        backend = make();
        await backend.open();
        return backend;
      },
      cleanup: () => backend.close(),
    };
  },
});

describe("etcd: a commit over etcd's own limits", () => {
  it('is INVALID_ARGUMENT naming the limit (retrying cannot help), and writes nothing', async () => {
    const backend = await server();
    try {
      const before = await backend.currentRevision();
      const many = Array.from({ length: 200 }, (_, i) => ({ type: 'put' as const, key: `bulk/${i}`, value: '{}' }));
      const err = (await rejection(backend.commit(many))) as { code?: string; message?: string };
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(/max-txn-ops/);
      // Over etcd's request limit (1.5 MiB: etcd refuses it), and over its gRPC message limit (2 MiB).
      for (const size of [1.6, 2.1]) {
        const big = [
          { type: 'put' as const, key: 'big', value: JSON.stringify({ s: 'x'.repeat(size * 1024 * 1024) }) },
        ];
        const tooLarge = (await rejection(backend.commit(big))) as { code?: string; message?: string };
        expect(tooLarge.code).toBe('INVALID_ARGUMENT');
        expect(tooLarge.message).toMatch(/max-request-bytes/);
      }
      expect(await backend.currentRevision()).toBe(before);
      expect(await read(backend, 'bulk/0')).toBeUndefined();
      // Within the limits, the same backend goes on committing.
      expect((await backend.commit(many.slice(0, 50))).revision).toBe(before + 1);
    } finally {
      await backend.close();
    }
  });
});

describe('etcd: several Lucien servers on one etcd', () => {
  const put = (key: string, value: string) => ({ type: 'put' as const, key, value });
  const del = (key: string) => ({ type: 'delete' as const, key });
  let a: EtcdBackend;
  let b: EtcdBackend;
  beforeEach(async () => {
    a = await server();
    b = new EtcdBackend({ endpoints: [endpoint()], namespace: `ns${namespaces}/` });
    await b.open();
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  it("each server reads the other's commits at the same revision, and revisions are etcd's", async () => {
    const { revision } = await a.commit([put('k', '{"by":"a"}')]);
    expect(await b.currentRevision()).toBe(revision);
    expect(await read(b, 'k')).toEqual({
      key: 'k',
      value: '{"by":"a"}',
      createRevision: revision,
      modRevision: revision,
    });
    const r2 = (await b.commit([put('k', '{"by":"b"}'), del('missing')])).revision;
    expect(r2).toBe(revision + 1);
    expect(await read(a, 'k')).toMatchObject({ value: '{"by":"b"}', createRevision: revision, modRevision: r2 });
    const raw = new Etcd3({ hosts: [endpoint()] });
    try {
      expect(Number((await raw.kv.range({ key: Buffer.from('x') })).header.revision)).toBe(r2);
    } finally {
      raw.close();
    }
  });

  it("a conflicting commit from server B fails A's key condition, naming the key, and writes nothing", async () => {
    const r1 = (await a.commit([put('k', '{"n":1}')])).revision;
    const snapshot = await a.snapshot();
    const seen = await snapshot.get('k');
    await snapshot.release();
    await b.commit([put('k', '{"n":2}')]);
    const err = await rejection(
      a.commit(
        [put('k', '{"n":3}'), put('other', '{}')],
        [{ type: 'key', key: 'k', modRevision: seen?.modRevision ?? -1 }],
      ),
    );
    expect(err).toMatchObject({ code: 'CONDITION_FAILED', details: { key: 'k' } });
    expect(await read(b, 'other')).toBeUndefined();
    expect((await read(b, 'k'))?.value).toBe('{"n":2}');
    const absent = await rejection(b.commit([put('k', '{}')], [{ type: 'key', key: 'k', modRevision: 0 }]));
    expect(absent.details?.key).toBe('k');
    expect(r1).toBeGreaterThan(0);
  });

  it("a delete by server B under a prefix fails A's prefix guard; a put elsewhere does not", async () => {
    const r1 = (await a.commit([put('p/1', '{}'), put('p/2', '{}')])).revision;
    await b.commit([put('q/1', '{}')]);
    await a.commit([put('x', '{}')], [{ type: 'prefix', prefix: 'p/', revision: r1 }]);
    await b.commit([del('p/2')]);
    const err = await rejection(a.commit([put('y', '{}')], [{ type: 'prefix', prefix: 'p/', revision: r1 }]));
    expect(err).toMatchObject({ code: 'CONDITION_FAILED', details: { key: 'p/2' } });
    expect(await read(a, 'y')).toBeUndefined();
  });

  it('read-modify-write increments racing on two servers lose no update', async () => {
    await a.commit([put('counter', '{"n":0}')]);
    const increment = async (s: EtcdBackend): Promise<void> => {
      for (;;) {
        const current = await read(s, 'counter');
        const n = (JSON.parse(current?.value ?? '{}') as { n: number }).n;
        const guard = [{ type: 'key' as const, key: 'counter', modRevision: current?.modRevision ?? 0 }];
        const attempt = await s
          .commit([put('counter', JSON.stringify({ n: n + 1 }))], guard)
          .catch((e: { code?: string }) => e);
        if (!('code' in attempt)) return;
        expect(attempt.code).toBe('CONDITION_FAILED');
      }
    };
    const run = async (s: EtcdBackend) => {
      for (let i = 0; i < 8; i++) await increment(s);
    };
    await Promise.all([run(a), run(b), run(a), run(b)]);
    expect((await read(a, 'counter'))?.value).toBe('{"n":32}');
  });

  it("subscribe and changesSince on A deliver B's commits, whole and in order", async () => {
    const seen: Change[][] = [];
    const unsubscribe = a.subscribe((changes) => seen.push([...changes]));
    const from = await a.currentRevision();
    const r1 = (await b.commit([put('k', '{}'), put('j', '{}')])).revision;
    const r2 = (await b.commit([del('k'), put('k2', '{"v":1}'), del('k2')])).revision;
    const expected = [
      [
        { type: 'put', key: 'k', value: '{}', revision: r1 },
        { type: 'put', key: 'j', value: '{}', revision: r1 },
      ],
      [
        { type: 'delete', key: 'k', value: '', revision: r2 },
        { type: 'delete', key: 'k2', value: '', revision: r2 },
      ],
    ];
    await eventually(() => expect(seen).toEqual(expected));
    expect(await a.changesSince(from, 100)).toEqual(expected.flat());
    unsubscribe();
    expect(await read(a, 'k2')).toBeUndefined();
  });
});

describe('etcd: what etcd cannot say in one Txn', () => {
  it('a key deleted and put again in one commit is reborn there, for readers and for the history', async () => {
    const backend = await server();
    try {
      const r1 = (await backend.commit([{ type: 'put', key: 'k', value: '{"v":1}' }])).revision;
      const r2 = (
        await backend.commit([
          { type: 'delete', key: 'k' },
          { type: 'put', key: 'k', value: '{"v":2}' },
        ])
      ).revision;
      const r3 = (await backend.commit([{ type: 'put', key: 'k', value: '{"v":3}' }])).revision;
      expect(await read(backend, 'k')).toMatchObject({ value: '{"v":3}', createRevision: r2, modRevision: r3 });
      expect((await readAll(backend))[0]).toMatchObject({ key: 'k', createRevision: r2 });
      expect(await backend.changesSince(r1, 10)).toEqual([
        { type: 'delete', key: 'k', value: '', revision: r2 },
        { type: 'put', key: 'k', value: '{"v":2}', revision: r2 },
        { type: 'put', key: 'k', value: '{"v":3}', revision: r3 },
      ]);
      await backend.commit([{ type: 'delete', key: 'k' }]);
      const r5 = (await backend.commit([{ type: 'put', key: 'k', value: '{}' }])).revision;
      expect(await read(backend, 'k')).toMatchObject({ createRevision: r5, modRevision: r5 });
    } finally {
      await backend.close();
    }
  });
});

describe('etcd: housekeeping', () => {
  it('tombstones older than the window are trimmed inside later commits, which spend no extra revision; etcd is compacted to the window', async () => {
    const backend = await server({ historyRevisions: 3, maintenanceEvery: 2 });
    const raw = new Etcd3({ hosts: [endpoint()] });
    try {
      const ns = `ns${namespaces}/`;
      const r1 = (await backend.commit([{ type: 'put', key: 'gone', value: '{}' }])).revision;
      await backend.commit([{ type: 'delete', key: 'gone' }]);
      expect(await raw.get(`${ns}t/gone`).string()).toBe('');
      let last = r1 + 1;
      for (let i = 0; i < 8 && (await raw.get(`${ns}t/gone`).exists()); i++) {
        const { revision } = await backend.commit([{ type: 'put', key: `k${i}`, value: '{}' }]);
        expect(revision).toBe(last + 1);
        last = revision;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await raw.get(`${ns}t/gone`).exists()).toBe(false);
      expect(await backend.oldestRetainedRevision()).toBe(last - 2);
      await expect(raw.kv.range({ key: Buffer.from('x'), revision: r1 })).rejects.toThrow(/compacted/);
      expect((await rejection(backend.changesSince(r1, 10))).code).toBe('COMPACTED');
      expect((await readAll(backend)).map((kv) => kv.key)).not.toContain('gone');
    } finally {
      raw.close();
      await backend.close();
    }
  });
});
