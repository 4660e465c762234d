/**
 * List never serves a stale range from the server's cache of scan results
 * (src/storage/range-cache.ts), checked through gRPC against a real server on
 * a real LevelDB. Puts, Deletes and script commits in both engines race Lists
 * over prefixes, start keys, limits, page tokens, empty ranges and keys at
 * the edges of ranges. Every write's revision is known, so the state at any
 * revision is known: each List page must be exactly the page of some state
 * no older than every write acknowledged before the List was sent.
 */
import fc from 'fast-check';
import { compareBytewise } from '../../src/storage/bytewise';
import { connect, type TestClient } from '../helpers/client';
import { type RunningServer, startServer } from '../helpers/server';
import { WriteHistory } from '../helpers/write-history';

const BUCKET = 'lc';
/** Keys around the edges of the prefixes below, in UTF-8 order: a/ ends before a0, c\u{1f600} after c\uffff. */
const KEYS = ['a', 'a/', 'a/1', 'a/2', 'a0', 'ab', 'b', 'b/x', 'c\uffff', 'c\u{1f600}'];
const PREFIXES = ['', 'a', 'a/', 'a/1', 'b', 'c', 'c\u{1f600}', 'd'];
const STARTS = ['', 'a', 'a/1', 'a0', 'b/x', 'c\uffff'];

const BUMP = {
  javascript:
    'const b = buckets.getBucket(args[0]);\nconst v = b.get(args[1]);\nconst n = (v !== null && typeof v.n === "number" ? v.n : 0) + 1;\nb.put(args[1], { n, id: args[2] });\nresult = n;',
  python:
    'b = buckets.getBucket(args[0])\nv = b.get(args[1]) or {}\nn = v.get("n", 0) + 1\nb.put(args[1], {"n": n, "id": args[2]})\nresult = n',
};

type Engine = 'javascript' | 'python';
type Op =
  | { t: 'put'; key: string }
  | { t: 'delete'; key: string }
  | { t: 'bump'; key: string; engine: Engine }
  | { t: 'list'; prefix: string; start: string; limit: number; follow: boolean };

const key = fc.constantFrom(...KEYS);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant('put' as const), key }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), key }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('bump' as const),
      key,
      engine: fc.constantFrom<Engine>('javascript', 'python'),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('list' as const),
      prefix: fc.constantFrom(...PREFIXES),
      start: fc.constantFrom(...STARTS),
      limit: fc.constantFrom(1, 2, 3, 100),
      follow: fc.boolean(),
    }),
  },
);

interface Item {
  key: string;
  value: unknown;
  create: number;
  mod: number;
}
interface ListItem {
  key: string;
  value: string;
  create_revision: string | number;
  mod_revision: string | number;
}
interface ListReply {
  items: ListItem[];
  next_page_token: string;
}
interface Page {
  prefix: string;
  start: string;
  limit: number;
  ackedBefore: number;
  items: Item[];
  more: boolean;
}

/** The List page of the state at `revision`. */
function pageAt(
  history: WriteHistory,
  revision: number,
  prefix: string,
  start: string,
  limit: number,
): { items: Item[]; more: boolean } {
  const all = [...history.at(revision)]
    .map(([key, v]) => ({ key, value: v.value, create: v.create, mod: v.mod }))
    .filter((i) => i.key.startsWith(prefix) && (start === '' || compareBytewise(i.key, start) > 0))
    .sort((x, y) => compareBytewise(x.key, y.key));
  return { items: all.slice(0, limit), more: all.length > limit };
}

const item = (i: ListItem): Item => ({
  key: i.key,
  value: JSON.parse(i.value),
  create: Number(i.create_revision),
  mod: Number(i.mod_revision),
});

/** Runs `ops`, `lanes` at a time over `clients`, then checks every List page against the history. */
async function raceAndCheck(ops: readonly Op[], clients: readonly TestClient[], lanes = 6): Promise<void> {
  const history = new WriteHistory();
  const pages: Page[] = [];
  let next = 0;
  let ids = 0;
  const lane = async (laneNo: number): Promise<void> => {
    for (let i = next++; i < ops.length; i = next++) {
      const o = ops[i] as Op;
      const c = clients[(i + laneNo) % clients.length] as TestClient;
      if (o.t === 'put') {
        const value = { id: `p${++ids}` };
        const res = await c.call<{ revision: number }>('Put', {
          bucket: BUCKET,
          key: o.key,
          value: JSON.stringify(value),
        });
        history.record(Number(res.revision), o.key, value);
      } else if (o.t === 'delete') {
        const res = await c.call<{ revision: number; deleted: boolean }>('Delete', { bucket: BUCKET, key: o.key });
        if (res.deleted) history.record(Number(res.revision), o.key, null);
      } else if (o.t === 'bump') {
        const res = await c.call<{ revision: number; writes: { key: string; value: string; deleted: boolean }[] }>(
          'Run',
          { name: `lc_bump_${o.engine}`, args: JSON.stringify([BUCKET, o.key, `b${++ids}`]), timeout_ms: 20000 },
        );
        for (const w of res.writes) history.record(Number(res.revision), w.key, w.deleted ? null : JSON.parse(w.value));
      } else {
        let request = { bucket: BUCKET, prefix: o.prefix, start_after: o.start, limit: o.limit, page_token: '' };
        let start = o.start;
        for (;;) {
          const ackedBefore = history.acked;
          const reply = await c.call<ListReply>('List', request);
          const items = reply.items.map(item);
          const more = reply.next_page_token !== '';
          pages.push({ prefix: o.prefix, start, limit: o.limit, ackedBefore, items, more });
          const last = items[items.length - 1];
          if (!o.follow || !more || last === undefined) break;
          request = { ...request, start_after: '', page_token: reply.next_page_token };
          start = last.key;
        }
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: lanes }, (_, n) => lane(n)));
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  const latest = history.acked;
  for (const page of pages) {
    const seen = { items: page.items, more: page.more };
    const matches: number[] = [];
    for (let r = page.ackedBefore; r <= latest; r++) {
      if (JSON.stringify(pageAt(history, r, page.prefix, page.start, page.limit)) === JSON.stringify(seen))
        matches.push(r);
    }
    // Exactly some state at or after the last acknowledged write: otherwise show the one it should have been.
    if (matches.length === 0) {
      expect({ ...page, seen }).toEqual({
        ...page,
        seen: pageAt(history, page.ackedBefore, page.prefix, page.start, page.limit),
      });
    }
  }
}

describe('List on LevelDB with the range cache', () => {
  let server: RunningServer;
  let clients: TestClient[];

  beforeAll(async () => {
    server = await startServer({ enginePool: 1 });
    clients = Array.from({ length: 3 }, () => connect(server.address));
    for (const engine of ['javascript', 'python'] as const) {
      await (clients[0] as TestClient).call('PutScript', { name: `lc_bump_${engine}`, engine, source: BUMP[engine] });
    }
  });

  afterAll(async () => {
    for (const c of clients ?? []) c.close();
    await server?.stop();
    server?.cleanup();
  });

  const clear = async (): Promise<void> => {
    for (const k of KEYS) await (clients[0] as TestClient).call('Delete', { bucket: BUCKET, key: k });
  };

  test('property: every List page is exactly the page of a state no older than an acknowledged write', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 30, maxLength: 80 }), async (ops) => {
        await clear();
        await raceAndCheck(ops, clients);
      }),
      { numRuns: 12 },
    );
  });

  test('a List right after a commit into its range reads that commit, for each kind of commit and range edge', async () => {
    await clear();
    const c = clients[0] as TestClient;
    const list = async (prefix: string, limit: number, startAfter = ''): Promise<string[]> => {
      // The first List fills the cache, the second is answered from it, the third is checked.
      for (let i = 0; i < 2; i++) await c.call('List', { bucket: BUCKET, prefix, limit, start_after: startAfter });
      const reply = await c.call<ListReply>('List', { bucket: BUCKET, prefix, limit, start_after: startAfter });
      return reply.items.map((i) => `${i.key}=${i.value}`);
    };
    await c.call('Put', { bucket: BUCKET, key: 'a/1', value: '{"v":1}' });
    expect(await list('a/', 100)).toEqual(['a/1={"v":1}']);
    await c.call('Put', { bucket: BUCKET, key: 'a/', value: '{"v":2}' });
    expect(await list('a/', 100)).toEqual(['a/={"v":2}', 'a/1={"v":1}']);
    await c.call('Batch', { ops: [{ put: { bucket: BUCKET, key: 'a/2', value: '{"v":3}' } }] });
    expect(await list('a/', 2)).toEqual(['a/={"v":2}', 'a/1={"v":1}']);
    await c.call('Delete', { bucket: BUCKET, key: 'a/' });
    expect(await list('a/', 2)).toEqual(['a/1={"v":1}', 'a/2={"v":3}']);
    await c.call('Run', { name: 'lc_bump_javascript', args: JSON.stringify([BUCKET, 'a/2', 'x']) });
    expect(await list('a/', 100, 'a/1')).toEqual(['a/2={"n":1,"id":"x"}']);
    await c.call('Run', { name: 'lc_bump_python', args: JSON.stringify([BUCKET, 'a/\u{10ffff}', 'y']) });
    expect(await list('a/', 100, 'a/1')).toEqual(['a/2={"n":1,"id":"x"}', 'a/\u{10ffff}={"n":1,"id":"y"}']);
    expect(await list('d', 100)).toEqual([]);
    await c.call('Put', { bucket: BUCKET, key: 'd', value: '{"v":4}' });
    expect(await list('d', 100)).toEqual(['d={"v":4}']);
  });
});
