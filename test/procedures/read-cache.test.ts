/**
 * The engine hosts' read caches never serve a stale value, checked against
 * real servers: LevelDB through one server, and etcd through two servers on
 * one etcd (a commit through either must be seen by runs on the other's
 * hosts). Plain Puts and Deletes and read-modify-write script commits race
 * read-only runs of both engines (get, getMany and list) on engine pools of
 * two hosts. Every write's revision is known, so the store's state at any
 * revision is known: each read-only run must return exactly the state at its
 * snapshot revision, and that revision must be at least that of every write
 * acknowledged before the run was sent (no run reads the past).
 */
import fc from 'fast-check';
import { connect, type TestClient } from '../helpers/client';
import { type RunningEtcd, startEtcd } from '../helpers/etcd';
import { type RunningServer, startServer } from '../helpers/server';
import { WriteHistory } from '../helpers/write-history';

const BUCKET = 'rc';
const KEYS = ['a', 'b', 'c', 'd', 'e'];

const READER = {
  javascript: [
    'const b = buckets.getBucket(args[0]);',
    'const gets = args[1].map((k) => b.get(k));',
    'const many = b.getMany(args[1]);',
    'const list = b.list({ prefix: "", limit: 100 });',
    'result = { gets, many, list };',
  ].join('\n'),
  python: [
    'b = buckets.getBucket(args[0])',
    'gets = [b.get(k) for k in args[1]]',
    'many = b.getMany(args[1])',
    'lst = [[k, v] for (k, v) in b.list(prefix="", limit=100)]',
    'result = {"gets": gets, "many": many, "list": lst}',
  ].join('\n'),
};

/** Read-modify-write: a script commit that reads through the cache before it writes. */
const BUMP = {
  javascript:
    'const b = buckets.getBucket(args[0]);\nconst v = b.get(args[1]);\nconst n = (v !== null && typeof v.n === "number" ? v.n : 0) + 1;\nb.put(args[1], { n, id: args[2] });\nresult = n;',
  python:
    'b = buckets.getBucket(args[0])\nv = b.get(args[1]) or {}\nn = v.get("n", 0) + 1\nb.put(args[1], {"n": n, "id": args[2]})\nresult = n',
};

type Op =
  | { t: 'put'; key: string }
  | { t: 'delete'; key: string }
  | { t: 'bump'; key: string; engine: 'javascript' | 'python' }
  | { t: 'read'; engine: 'javascript' | 'python'; keys: string[] };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ t: fc.constant('put' as const), key: fc.constantFrom(...KEYS) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), key: fc.constantFrom(...KEYS) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('bump' as const),
      key: fc.constantFrom(...KEYS),
      engine: fc.constantFrom('javascript' as const, 'python' as const),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('read' as const),
      engine: fc.constantFrom('javascript' as const, 'python' as const),
      keys: fc.subarray(KEYS, { minLength: 1 }),
    }),
  },
);

type RunRes = { result: string; revision: number; writes: { key: string; value: string; deleted: boolean }[] };

/**
 * Runs `ops` concurrently, `lanes` at a time, writes through `writers` and
 * reads through `readers` (chosen round-robin), then checks every read.
 */
async function raceAndCheck(
  ops: readonly Op[],
  writers: readonly TestClient[],
  readers: readonly TestClient[],
  lanes = 6,
): Promise<number> {
  const history = new WriteHistory();
  const reads: {
    revision: number;
    ackedBefore: number;
    keys: string[];
    result: { gets: unknown[]; many: unknown[]; list: [string, unknown][] };
  }[] = [];
  let next = 0;
  let ids = 0;
  const lane = async (laneNo: number): Promise<void> => {
    for (let i = next++; i < ops.length; i = next++) {
      const o = ops[i] as Op;
      const writer = writers[(i + laneNo) % writers.length] as TestClient;
      const reader = readers[(i + laneNo) % readers.length] as TestClient;
      if (o.t === 'put') {
        const value = { id: `p${++ids}` };
        const { revision } = await writer.call<{ revision: number }>('Put', {
          bucket: BUCKET,
          key: o.key,
          value: JSON.stringify(value),
        });
        history.record(Number(revision), o.key, value);
      } else if (o.t === 'delete') {
        const { revision, deleted } = await writer.call<{ revision: number; deleted: boolean }>('Delete', {
          bucket: BUCKET,
          key: o.key,
        });
        if (deleted) history.record(Number(revision), o.key, null);
      } else if (o.t === 'bump') {
        const res = await writer.call<RunRes>('Run', {
          name: `rc_bump_${o.engine}`,
          args: JSON.stringify([BUCKET, o.key, `b${++ids}`]),
          timeout_ms: 20000,
        });
        for (const w of res.writes) history.record(Number(res.revision), w.key, w.deleted ? null : JSON.parse(w.value));
      } else {
        const ackedBefore = history.acked;
        const res = await reader.call<RunRes>('Run', {
          name: `rc_read_${o.engine}`,
          args: JSON.stringify([BUCKET, o.keys]),
          timeout_ms: 20000,
        });
        expect(res.writes).toEqual([]);
        reads.push({ revision: Number(res.revision), ackedBefore, keys: o.keys, result: JSON.parse(res.result) });
      }
    }
  };
  // Every lane finishes before anything is checked or thrown: no write of this round may land in the next.
  const settled = await Promise.allSettled(Array.from({ length: lanes }, (_, n) => lane(n)));
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  for (const read of reads) {
    // No run reads the past: every write acknowledged before it was sent is in its snapshot.
    expect(read.revision).toBeGreaterThanOrEqual(read.ackedBefore);
    const state = new Map([...history.at(read.revision)].map(([key, v]) => [key, v.value]));
    const expected = read.keys.map((k) => state.get(k) ?? null);
    expect(read.result.gets).toEqual(expected);
    expect(read.result.many).toEqual(expected);
    expect(read.result.list).toEqual([...state.entries()].sort(([x], [y]) => (x < y ? -1 : 1)));
  }
  return reads.length;
}

async function register(client: TestClient): Promise<void> {
  for (const engine of ['javascript', 'python'] as const) {
    await client.call('PutScript', { name: `rc_read_${engine}`, engine, source: READER[engine] });
    await client.call('PutScript', { name: `rc_bump_${engine}`, engine, source: BUMP[engine] });
  }
}

/** Clears the bucket between property runs, so each starts from an empty state. */
async function clear(client: TestClient): Promise<void> {
  for (const key of KEYS) await client.call('Delete', { bucket: BUCKET, key });
}

describe('LevelDB, one server, two hosts per engine', () => {
  let server: RunningServer;
  let clients: TestClient[];

  beforeAll(async () => {
    server = await startServer({ enginePool: 2 });
    clients = Array.from({ length: 3 }, () => connect(server.address));
    await register(clients[0] as TestClient);
  });

  afterAll(async () => {
    for (const c of clients ?? []) c.close();
    await server?.stop();
    server?.cleanup();
  });

  test('property: every read-only run returns exactly the state at its snapshot revision, never older than an acknowledged write', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 20, maxLength: 60 }), async (ops) => {
        await clear(clients[0] as TestClient);
        await raceAndCheck(ops, clients, clients);
      }),
      { numRuns: 12 },
    );
  });

  test('a key changed by a plain Put right after a run cached it is read fresh by the next run on every host', async () => {
    const c = clients[0] as TestClient;
    for (let round = 1; round <= 8; round++) {
      await c.call('Put', { bucket: BUCKET, key: 'a', value: JSON.stringify({ round }) });
      // Several runs at once, so every host of each engine answers one.
      const results = await Promise.all(
        (['javascript', 'python', 'javascript', 'python'] as const).map((engine) =>
          c.call<RunRes>('Run', { name: `rc_read_${engine}`, args: JSON.stringify([BUCKET, ['a']]) }),
        ),
      );
      for (const res of results) expect(JSON.parse(res.result).gets).toEqual([{ round }]);
    }
  });
});

describe('etcd, two servers sharing one etcd', () => {
  let etcd: RunningEtcd;
  let servers: RunningServer[];
  let a: TestClient[];
  let b: TestClient[];

  beforeAll(async () => {
    etcd = await startEtcd();
    const args = ['--backend', 'etcd', '--etcd-endpoints', etcd.endpoint];
    servers = [await startServer({ enginePool: 2, args }), await startServer({ enginePool: 2, args })];
    a = Array.from({ length: 2 }, () => connect((servers[0] as RunningServer).address));
    b = Array.from({ length: 2 }, () => connect((servers[1] as RunningServer).address));
    await register(a[0] as TestClient);
  }, 120000);

  afterAll(async () => {
    for (const c of [...(a ?? []), ...(b ?? [])]) c.close();
    for (const s of servers ?? []) {
      await s.stop();
      s.cleanup();
    }
    await etcd?.stop();
  });

  test('property: runs on either server see exactly their snapshot, including every commit acknowledged by the other', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 20, maxLength: 50 }), async (ops) => {
        await clear(a[0] as TestClient);
        // Writes through A, reads through B, then the other way round.
        await raceAndCheck(ops, a, b);
        await clear(b[0] as TestClient);
        await raceAndCheck(ops, b, a);
      }),
      { numRuns: 6 },
    );
  });

  test('a Put through server A is read by the very next run on server B, on every host', async () => {
    for (let round = 1; round <= 6; round++) {
      await (a[0] as TestClient).call('Put', { bucket: BUCKET, key: 'b', value: JSON.stringify({ round }) });
      const results = await Promise.all(
        (['javascript', 'python', 'javascript', 'python'] as const).map((engine) =>
          (b[0] as TestClient).call<RunRes>('Run', {
            name: `rc_read_${engine}`,
            args: JSON.stringify([BUCKET, ['b']]),
          }),
        ),
      );
      for (const res of results) expect(JSON.parse(res.result).gets).toEqual([{ round }]);
    }
  });
});
