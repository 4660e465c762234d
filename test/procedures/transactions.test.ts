/**
 * Script runs are serializable transactions (DESIGN §4.1), checked under real
 * concurrency against a real server in both engines: exact counters, money
 * transfers, write skew, phantoms, and a property test comparing concurrent
 * runs with a serial replay in commit order; and a hot key on etcd through
 * two servers.
 */
import fc from 'fast-check';
import { connect, type TestClient } from '../helpers/client';
import { type RunningEtcd, startEtcd } from '../helpers/etcd';
import { type RunningServer, startServer } from '../helpers/server';

let server: RunningServer;
let clients: TestClient[];

beforeAll(async () => {
  server = await startServer({ args: ['--engine-pool', '2'] });
  clients = Array.from({ length: 8 }, () => connect(server.address));
});

afterAll(async () => {
  for (const c of clients ?? []) c.close();
  await server?.stop();
  server?.cleanup();
});

type RunRes = { result: string; revision: number; attempts: number; writes: unknown[] };
const client = () => clients[0] as TestClient;
const run = (c: TestClient, name: string, args: unknown[] = []) =>
  c.call<RunRes>('Run', { name, args: JSON.stringify(args), timeout_ms: 20000 });
const value = async (bucket: string, key: string) =>
  JSON.parse((await client().call<{ value: string }>('Get', { bucket, key })).value);

const SCRIPTS = {
  python: {
    incr: 'b = buckets.getBucket(args[0])\nv = b.get(args[1]) or {"n": 0}\nv["n"] += 1\nb.put(args[1], v)\nresult = v["n"]',
    transfer: [
      'acc = buckets.getBucket("accounts")',
      'src, dst, amount = args',
      'a = acc.get(src)',
      'b = acc.get(dst)',
      'if a["balance"] >= amount:',
      '    a["balance"] -= amount',
      '    b["balance"] += amount',
      '    acc.put(src, a)',
      '    acc.put(dst, b)',
      '    result = True',
      'else:',
      '    result = False',
    ].join('\n'),
    offcall:
      'd = buckets.getBucket(args[0])\nme = d.get(args[1])\nother = d.get(args[2])\nif me["on"] and other["on"]:\n    me["on"] = False\n    d.put(args[1], me)\nresult = me["on"]',
    claim:
      'b = buckets.getBucket(args[0])\nif len(b.list(prefix="slot:")) == 0:\n    b.put("slot:" + args[1], {"by": args[1]})\n    result = True\nelse:\n    result = False',
    apply:
      'b = buckets.getBucket(args[0])\nreads = []\nfor op in args[1]:\n    v = b.get(op["key"]) or {"n": 0}\n    reads.append(v["n"])\n    if op["add"] != 0:\n        v["n"] += op["add"]\n        b.put(op["key"], v)\nresult = reads',
  },
  javascript: {
    incr: 'const b = buckets.getBucket(args[0]);\nconst v = b.get(args[1]) || { n: 0 };\nv.n += 1;\nb.put(args[1], v);\nresult = v.n;',
    transfer: [
      'const acc = buckets.getBucket("accounts");',
      'const [src, dst, amount] = args;',
      'const a = acc.get(src);',
      'const b = acc.get(dst);',
      'if (a.balance >= amount) {',
      '  a.balance -= amount;',
      '  b.balance += amount;',
      '  acc.put(src, a);',
      '  acc.put(dst, b);',
      '  result = true;',
      '} else result = false;',
    ].join('\n'),
    offcall:
      'const d = buckets.getBucket(args[0]);\nconst me = d.get(args[1]);\nconst other = d.get(args[2]);\nif (me.on && other.on) { me.on = false; d.put(args[1], me); }\nresult = me.on;',
    claim:
      'const b = buckets.getBucket(args[0]);\nif (b.list({ prefix: "slot:" }).length === 0) { b.put("slot:" + args[1], { by: args[1] }); result = true; } else result = false;',
    apply:
      'const b = buckets.getBucket(args[0]);\nconst reads = [];\nfor (const op of args[1]) {\n  const v = b.get(op.key) || { n: 0 };\n  reads.push(v.n);\n  if (op.add !== 0) { v.n += op.add; b.put(op.key, v); }\n}\nresult = reads;',
  },
} as const;

describe.each(['javascript', 'python'] as const)('%s runs', (engine) => {
  const name = (s: string) => `${engine}_tx_${s}`;

  beforeAll(async () => {
    for (const [key, source] of Object.entries(SCRIPTS[engine]))
      await client().call('PutScript', { name: name(key), engine, source });
  });

  test('8 clients incrementing one hot key: the count is exact and every value is returned exactly once', async () => {
    const perClient = 40;
    let attempts = 0;
    const results = await Promise.all(
      clients.map(async (c) => {
        const seen: number[] = [];
        for (let i = 0; i < perClient; i++) {
          const out = await run(c, name('incr'), [`hot_${engine}`, 'n']);
          attempts += out.attempts;
          seen.push(JSON.parse(out.result));
        }
        return seen;
      }),
    );
    const all = results.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 8 * perClient }, (_, i) => i + 1));
    expect(await value(`hot_${engine}`, 'n')).toEqual({ n: 8 * perClient });
    // Once runs have collided, the script's runs take turns: few attempts are wasted (about 2 per run without).
    expect(attempts).toBeLessThan(1.5 * 8 * perClient);
  });

  test('concurrent transfers conserve the total and never overdraw', async () => {
    const accounts = ['a', 'b', 'c', 'd'];
    await client().call('Batch', {
      ops: accounts.map((key) => ({ put: { bucket: 'accounts', key, value: '{"balance":100}' } })),
    });
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    await Promise.all(
      clients.map(async (c) => {
        for (let i = 0; i < 25; i++) {
          const src = accounts[Math.floor(rnd() * 4)] as string;
          const dst = accounts.filter((a) => a !== src)[Math.floor(rnd() * 3)] as string;
          await run(c, name('transfer'), [src, dst, 1 + Math.floor(rnd() * 60)]);
        }
      }),
    );
    const balances = await Promise.all(accounts.map(async (a) => (await value('accounts', a)).balance as number));
    expect(balances.reduce((x, y) => x + y, 0)).toBe(400);
    for (const b of balances) expect(b).toBeGreaterThanOrEqual(0);
  });

  test('write skew is prevented: two doctors going off call at once leave one on call', async () => {
    for (let round = 0; round < 15; round++) {
      const bucket = `doctors_${engine}_${round}`;
      await client().call('Batch', {
        ops: ['alice', 'bob'].map((key) => ({ put: { bucket, key, value: '{"on":true}' } })),
      });
      await Promise.all([
        run(clients[1] as TestClient, name('offcall'), [bucket, 'alice', 'bob']),
        run(clients[2] as TestClient, name('offcall'), [bucket, 'bob', 'alice']),
      ]);
      const onCall = [(await value(bucket, 'alice')).on, (await value(bucket, 'bob')).on].filter(Boolean).length;
      expect(onCall).toBe(1);
    }
  });

  test('phantoms are prevented: of runs that insert only into an empty range, exactly one commits', async () => {
    for (let round = 0; round < 5; round++) {
      const bucket = `slots_${engine}_${round}`;
      const claims = await Promise.all(clients.map((c, i) => run(c, name('claim'), [bucket, `c${i}`])));
      expect(claims.filter((r) => JSON.parse(r.result) === true)).toHaveLength(1);
      const listed = await client().call<{ items: unknown[] }>('List', { bucket, prefix: 'slot:' });
      expect(listed.items).toHaveLength(1);
    }
  });

  test('read-only runs never retry, even when a key they read changes while they run', async () => {
    const bucket = `ro_${engine}`;
    await run(client(), name('incr'), [bucket, 'x']);
    const reads = [...Array.from({ length: 150 }, () => ({ key: 'x', add: 0 })), { key: 'y', add: 0 }];
    const readers: { res: RunRes; doneAt: number }[] = [];
    const writers: { revision: number; doneAt: number }[] = [];
    let writing = true;
    const writer = async (c: TestClient) => {
      while (writing) {
        const res = await run(c, name('incr'), [bucket, 'x']);
        writers.push({ revision: res.revision, doneAt: performance.now() });
      }
    };
    const reader = async (c: TestClient) => {
      for (let i = 0; i < 6; i++)
        readers.push({ res: await run(c, name('apply'), [bucket, reads]), doneAt: performance.now() });
    };
    const writing$ = Promise.all(clients.slice(0, 2).map(writer));
    await Promise.all(clients.slice(2, 6).map(reader));
    writing = false;
    await writing$;
    // The test means something only if some writer committed inside a reader's window:
    // after the reader's snapshot (a higher revision) and acknowledged before the reader finished.
    const overlapped = readers.filter((r) => writers.some((w) => w.revision > r.res.revision && w.doneAt < r.doneAt));
    expect(overlapped.length).toBeGreaterThan(0);
    for (const r of readers) {
      expect(r.res.attempts).toBe(1);
      expect(r.res.writes).toEqual([]);
      // One snapshot: every read of x in one run saw the same value.
      const seen = JSON.parse(r.res.result) as number[];
      expect(new Set(seen.slice(0, 150)).size).toBe(1);
    }
  });

  test('property: concurrent runs give the same reads as a serial replay in commit order', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.array(fc.record({ key: fc.constantFrom('k1', 'k2', 'k3'), add: fc.integer({ min: 0, max: 3 }) }), {
            minLength: 1,
            maxLength: 3,
          }),
          { minLength: 2, maxLength: 8 },
        ),
        async (programs) => {
          const bucket = `model_${engine}_${round++}`;
          const outcomes = await Promise.all(
            programs.map(async (ops, i) => ({
              ops,
              res: await run(clients[i % clients.length] as TestClient, name('apply'), [bucket, ops]),
            })),
          );
          // Writers are ordered by their commit revision; a read-only run sees the state as of its snapshot revision.
          const writers = outcomes
            .filter((o) => o.res.writes.length > 0)
            .sort((a, b) => a.res.revision - b.res.revision);
          const model = new Map<string, number>();
          const states: { revision: number; state: Map<string, number> }[] = [];
          for (const o of writers) {
            const reads = o.ops.map((op) => {
              const n = model.get(op.key) ?? 0;
              if (op.add !== 0) model.set(op.key, n + op.add);
              return n;
            });
            expect(JSON.parse(o.res.result)).toEqual(reads);
            states.push({ revision: o.res.revision, state: new Map(model) });
          }
          for (const o of outcomes.filter((x) => x.res.writes.length === 0)) {
            const before =
              [...states].reverse().find((s) => s.revision <= o.res.revision)?.state ?? new Map<string, number>();
            expect(JSON.parse(o.res.result)).toEqual(o.ops.map((op) => before.get(op.key) ?? 0));
          }
          for (const key of ['k1', 'k2', 'k3']) {
            const stored = model.has(key) ? (await value(bucket, key)).n : undefined;
            expect(stored).toBe(model.get(key));
          }
        },
      ),
      { numRuns: 15 },
    );
  });
});

// Without host read caches a run's snapshot opens at its first read, and on etcd that read and the snapshot's
// revision are one Txn (etcd-snapshot.ts readLatest): the same exactness must hold on that path.
describe.each([
  { caches: 'with host read caches', extra: [] as string[], engines: ['javascript', 'python'] as const },
  { caches: 'without host read caches', extra: ['--host-cache-bytes', '0'], engines: ['javascript'] as const },
])('a hot key on etcd, through two servers, $caches', ({ extra, engines }) => {
  let etcd: RunningEtcd;
  let servers: RunningServer[] = [];
  let etcdClients: TestClient[] = [];

  beforeAll(async () => {
    etcd = await startEtcd();
    // Turns are per server: the two servers' runs still race each other, and on a loaded machine a run that
    // keeps losing to the other server's line reached 9 of the default 10 attempts (ABORTED, as the contract
    // allows). This test is about exactness and turns, so it allows runs more attempts than that tail.
    const args = [
      '--backend',
      'etcd',
      '--etcd-endpoints',
      etcd.endpoint,
      '--engine-pool',
      '2',
      '--script-max-attempts',
      '40',
      ...extra,
    ];
    servers = [await startServer({ args }), await startServer({ args })];
    etcdClients = Array.from({ length: 8 }, (_, i) => connect((servers[i % 2] as RunningServer).address));
    for (const engine of engines)
      await (etcdClients[0] as TestClient).call('PutScript', {
        name: `${engine}_etcd_incr`,
        engine,
        source: SCRIPTS[engine].incr,
      });
  }, 60_000);

  afterAll(async () => {
    for (const c of etcdClients) c.close();
    for (const s of servers) {
      await s.stop();
      s.cleanup();
    }
    await etcd?.stop();
  });

  test.each([...engines])(
    '%s: 8 clients on two servers incrementing one key: every value is returned exactly once; runs on one server take turns',
    async (engine) => {
      const perClient = 15;
      const attempts = [0, 0];
      const results = await Promise.all(
        etcdClients.map(async (c, i) => {
          const seen: number[] = [];
          for (let n = 0; n < perClient; n++) {
            const out = await run(c, `${engine}_etcd_incr`, [`etcd_hot_${engine}`, 'n']);
            attempts[i % 2] = (attempts[i % 2] as number) + out.attempts;
            seen.push(JSON.parse(out.result));
          }
          return seen;
        }),
      );
      const all = results.flat().sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: 8 * perClient }, (_, i) => i + 1));
      const final = await (etcdClients[1] as TestClient).call<{ value: string }>('Get', {
        bucket: `etcd_hot_${engine}`,
        key: 'n',
      });
      expect(JSON.parse(final.value)).toEqual({ n: 8 * perClient });
      // Each server's runs take turns; only races between the two servers are lost.
      for (const a of attempts) expect(a).toBeLessThan(2 * 4 * perClient);
    },
    120_000,
  );
});
