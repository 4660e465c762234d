/**
 * The bucket bridge checks every call, whatever the host sends: an escaped
 * script can write raw protocol frames, so malformed or forbidden calls must
 * come back as errors for the script, never crash the server or write.
 */
import type { BridgeCall } from '../../engines/protocol';
import { RunTransaction } from '../../src/procedures/run-transaction';
import { MemoryBackend } from '../../src/storage/memory';
import { Store } from '../../src/storage/store';

const LIMITS = { maxWrites: 3, maxReadBatch: 10 };

async function open() {
  const backend = new MemoryBackend();
  await backend.open();
  return new Store(backend, { maxKeyBytes: 1024, maxValueBytes: 1024 });
}

async function transaction() {
  const store = await open();
  await store.put('posts', 'p1', '{"t":1}');
  return { store, tx: new RunTransaction(store, () => store.space.snapshot(), LIMITS) };
}

/** A call as a host sends it: JSON text (anything, for the malformed cases). */
const raw = (call: unknown): string => JSON.stringify(call);
const call = (c: BridgeCall): string => JSON.stringify(c);

test.each([
  ['an unknown operation', { op: 'drop', bucket: 'posts' }, /unknown bridge operation/],
  ['a reserved bucket write', { op: 'put', bucket: '_scripts', key: 'x', value: '{}' }, /reserved/],
  ['a bad bucket name', { op: 'get', bucket: '../etc', key: 'x' }, /invalid bucket name/],
  ['a non-string key', { op: 'get', bucket: 'posts', key: 42 }, /key/],
  ['a value that is not JSON', { op: 'put', bucket: 'posts', key: 'x', value: '{' }, /not valid JSON/],
  ['a value that is an array', { op: 'put', bucket: 'posts', key: 'x', value: '[1]' }, /JSON object/],
  [
    'a value over the size limit',
    { op: 'put', bucket: 'posts', key: 'x', value: JSON.stringify({ s: 'x'.repeat(2000) }) },
    /limit/,
  ],
  ['getMany without a list', { op: 'getMany', bucket: 'posts', keys: 'p1' }, /list of keys/],
  [
    'getMany over the batch limit',
    { op: 'getMany', bucket: 'posts', keys: Array.from({ length: 11 }, (_, i) => `k${i}`) },
    /at most 10/,
  ],
  ['list with a zero limit', { op: 'list', bucket: 'posts', prefix: '', limit: 0, startAfter: null }, /limit/],
  ['list with a non-string prefix', { op: 'list', bucket: 'posts', prefix: 7, limit: 5, startAfter: null }, /prefix/],
  ['a null call', null, /malformed/],
  ['an array call', ['get', 'posts', 'p1'], /malformed/],
  ['a non-string bucket', { op: 'get', bucket: 7, key: 'p1' }, /bucket must be a string/],
  ['a non-string value', { op: 'put', bucket: 'posts', key: 'x', value: { a: 1 } }, /JSON text/],
  ['getMany with a non-string key', { op: 'getMany', bucket: 'posts', keys: ['p1', 2] }, /keys must be strings/],
  ['list with a non-number limit', { op: 'list', bucket: 'posts', prefix: '', limit: '5', startAfter: null }, /limit/],
  ['list with a non-string start', { op: 'list', bucket: 'posts', prefix: '', limit: 5, startAfter: 3 }, /start_after/],
])('%s is refused with an error for the script and writes nothing', async (_label, call, message) => {
  const { tx } = await transaction();
  const answer = await tx.handle(raw(call));
  expect(answer).toEqual({ error: expect.stringMatching(message) });
  expect(tx.readOnly).toBe(true);
  await tx.release();
});

test('a run may write at most maxWrites distinct keys; one more ends the run with SCRIPT_LIMIT, not an error the script could catch', async () => {
  const { tx } = await transaction();
  for (const key of ['a', 'b', 'c'])
    expect(await tx.handle(call({ op: 'put', bucket: 'w', key, value: '{}' }))).toEqual({ value: 'null' });
  expect(await tx.handle(call({ op: 'put', bucket: 'w', key: 'a', value: '{"again":1}' }))).toEqual({ value: 'null' });
  expect(() => tx.handle(call({ op: 'put', bucket: 'w', key: 'd', value: '{}' }))).toThrow(
    expect.objectContaining({ code: 'SCRIPT_LIMIT', message: expect.stringMatching(/at most 3 keys/) }),
  );
  await tx.release();
});

test('reads see the run’s own writes and deletes; list merges them in byte order', async () => {
  const { tx } = await transaction();
  await tx.handle(call({ op: 'put', bucket: 'posts', key: 'p0', value: '{"t":0}' }));
  await tx.handle(call({ op: 'delete', bucket: 'posts', key: 'p1' }));
  expect(await tx.handle(call({ op: 'get', bucket: 'posts', key: 'p1' }))).toEqual({ value: 'null' });
  expect(await tx.handle(call({ op: 'getMany', bucket: 'posts', keys: ['p0', 'p1'] }))).toEqual({
    value: '[{"t":0},null]',
  });
  expect(await tx.handle(call({ op: 'list', bucket: 'posts', prefix: 'p', limit: 10, startAfter: null }))).toEqual({
    value: '[["p0",{"t":0}]]',
  });
  await tx.release();
});

test('the commit is guarded by every key read (found or absent) and every listed prefix', async () => {
  const { tx } = await transaction();
  await tx.handle(call({ op: 'get', bucket: 'posts', key: 'p1' }));
  await tx.handle(call({ op: 'get', bucket: 'posts', key: 'missing' }));
  await tx.handle(call({ op: 'list', bucket: 'users', prefix: 'u', limit: 5, startAfter: null }));
  expect(tx.conditions()).toEqual([
    { type: 'key', bucket: 'posts', key: 'p1', modRevision: 1 },
    { type: 'key', bucket: 'posts', key: 'missing', modRevision: 0 },
    { type: 'prefix', bucket: 'users', prefix: 'u', revision: 1 },
  ]);
  await tx.release();
});

test('a run that reads nothing takes no snapshot', async () => {
  let opened = 0;
  const store = await open();
  const tx = new RunTransaction(
    store,
    async () => {
      opened++;
      return store.space.snapshot();
    },
    LIMITS,
  );
  await tx.handle(call({ op: 'put', bucket: 'w', key: 'k', value: '{}' }));
  expect(opened).toBe(0);
  expect(tx.revision).toBeUndefined();
  await tx.release();
});

test('text that is not JSON is refused as a malformed call', async () => {
  const { tx } = await transaction();
  expect(await tx.handle('{"op":"get",')).toEqual({ error: expect.stringMatching(/malformed bridge call: not JSON/) });
  expect(await tx.handle('')).toEqual({ error: expect.stringMatching(/malformed/) });
  await tx.release();
});
