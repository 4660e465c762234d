/**
 * Store.put takes a shorter path than Store.batch (no batch bookkeeping), and
 * must answer exactly as a batch of one put would: the same revision, the
 * same error code and message for every bad input or failed condition, and
 * nothing written when it fails.
 */
import { MemoryBackend } from '../../src/storage/memory';
import { Store, type WriteAccess } from '../../src/storage/store';

interface Case {
  readonly name: string;
  readonly bucket: string;
  readonly key: string;
  readonly value: string;
  readonly ifRevision?: number;
  readonly access?: WriteAccess;
}

const ok = '{"a":1}';
const cases: Case[] = [
  { name: 'a plain put', bucket: 'b', key: 'k', value: ok },
  { name: 'a put over an existing key', bucket: 'b', key: 'old', value: ok },
  { name: 'if absent, key absent', bucket: 'b', key: 'new', value: ok, ifRevision: 0 },
  { name: 'if absent, key present', bucket: 'b', key: 'old', value: ok, ifRevision: 0 },
  { name: 'if at its revision', bucket: 'b', key: 'old', value: ok, ifRevision: 1 },
  { name: 'if at a stale revision', bucket: 'b', key: 'old', value: ok, ifRevision: 7 },
  { name: 'a negative revision', bucket: 'b', key: 'k', value: ok, ifRevision: -1 },
  { name: 'a fractional revision', bucket: 'b', key: 'k', value: ok, ifRevision: 1.5 },
  { name: 'a bad bucket name', bucket: 'no spaces', key: 'k', value: ok },
  { name: 'a system bucket', bucket: '_scripts', key: 'k', value: ok },
  { name: 'a system bucket, system access', bucket: '_scripts', key: 'k', value: ok, access: { system: true } },
  { name: 'an empty key', bucket: 'b', key: '', value: ok },
  { name: 'a key too long', bucket: 'b', key: 'x'.repeat(65), value: ok },
  { name: 'a lone surrogate in the key', bucket: 'b', key: 'a\uD800', value: ok },
  { name: 'a value that is not JSON', bucket: 'b', key: 'k', value: '{' },
  { name: 'a value that is an array', bucket: 'b', key: 'k', value: '[1]' },
  { name: 'a value too large', bucket: 'b', key: 'k', value: JSON.stringify({ s: 'x'.repeat(200) }) },
  { name: 'a value nested too deep', bucket: 'b', key: 'k', value: '{"a":'.repeat(10) + '1' + '}'.repeat(10) },
];

/** A store holding b/old at revision 1, with small limits so that every check can fail. */
async function fresh(): Promise<Store> {
  const backend = new MemoryBackend();
  await backend.open();
  const store = new Store(backend, { maxKeyBytes: 64, maxValueBytes: 128, maxJsonDepth: 5 });
  await store.batch([{ type: 'put', bucket: 'b', key: 'old', value: ok }]);
  return store;
}

type Outcome = { revision: number } | { code: unknown; message: string };

async function outcome(f: () => Promise<number>): Promise<Outcome> {
  try {
    return { revision: await f() };
  } catch (err) {
    return { code: (err as { code?: unknown }).code, message: (err as Error).message };
  }
}

/** Everything the store holds, so a failed put can be seen to have written nothing. */
async function contents(store: Store): Promise<unknown> {
  return [await store.space.currentRevision(), await store.list('b', list), await store.list('_scripts', list)];
}
const list = { prefix: '', startAfter: '', limit: 100, keysOnly: false };

test.each(cases)('put answers as a batch of one: $name', async (c) => {
  const viaPut = await fresh();
  const viaBatch = await fresh();
  const put = await outcome(() => viaPut.put(c.bucket, c.key, c.value, c.ifRevision, c.access));
  const batch = await outcome(async () => {
    const op = { type: 'put', bucket: c.bucket, key: c.key, value: c.value, ifRevision: c.ifRevision } as const;
    return (await viaBatch.batch([op], c.access)).revision;
  });
  expect(put).toEqual(batch);
  expect(await contents(viaPut)).toEqual(await contents(viaBatch));
});

test('the cases cover both outcomes', async () => {
  const outcomes = await Promise.all(
    cases.map(async (c) => outcome(async () => (await fresh()).put(c.bucket, c.key, c.value, c.ifRevision, c.access))),
  );
  expect(outcomes.filter((o) => 'revision' in o).length).toBeGreaterThanOrEqual(4);
  expect(new Set(outcomes.map((o) => ('code' in o ? o.code : 'ok')))).toEqual(
    new Set(['ok', 'CONDITION_FAILED', 'INVALID_ARGUMENT', 'INVALID_BUCKET', 'INVALID_KEY', 'INVALID_VALUE']),
  );
});
