/**
 * BackendCore's rules, on a backend whose hooks do as little as a hook may
 * (a Map, no versions) and can be made to misbehave: the core, not the hook,
 * refuses calls outside 'open', guards released snapshots, checks conditions,
 * numbers revisions, and survives a write that fails.
 */
import type { Capabilities, Change, KeyValue } from '../../src/storage/backend';
import { BackendCore, type SnapshotReader, type WriteBatch } from '../../src/storage/core';
import { rejection } from '../conformance/storage';

class TinyBackend extends BackendCore {
  supports: Capabilities = { snapshots: false, history: true, remote: false, persistent: false, getManySync: true };
  readonly data = new Map<string, KeyValue>();
  readonly history: Change[] = [];
  readonly calls: string[] = [];
  readonly batches: WriteBatch[] = [];
  failOpen = false;
  failWrite = false;
  /** A write that waits for `finishWrite`. */
  slowWrite = false;
  finishWrite: (() => void) | undefined;
  changedUnder: string | undefined;
  oldest = 1;

  constructor() {
    super('tiny');
  }

  protected async _open(): Promise<void> {
    this.calls.push('open');
    if (this.failOpen) throw new Error('disk on fire');
  }

  protected async _close(): Promise<void> {
    this.calls.push('close');
  }

  protected _get(key: string): KeyValue | undefined {
    this.calls.push('get');
    return this.data.get(key);
  }

  protected _snapshot(): SnapshotReader {
    this.calls.push('snapshot');
    // A reader that never refuses anything: guarding it is the core's job.
    return {
      revision: this.revision,
      getMany: (keys) => keys.map((key) => this.data.get(key)),
      scan: () => [...this.data.values()],
      release: () => undefined,
    };
  }

  protected _oldestRetained(): number {
    return this.oldest;
  }

  protected _changesSince(after: number): Change[] {
    this.calls.push('changesSince');
    return this.history.filter((c) => c.revision > after);
  }

  protected _changedUnder(): string | undefined {
    this.calls.push('changedUnder');
    return this.changedUnder;
  }

  protected async _write(batch: WriteBatch): Promise<void> {
    this.calls.push('write');
    if (this.slowWrite) await new Promise<void>((resolve) => (this.finishWrite = resolve));
    if (this.failWrite) throw new Error('write failed');
    this.batches.push(batch);
    for (const [key, { kv }] of batch.writes) {
      if (kv === undefined) this.data.delete(key);
      else this.data.set(key, kv);
    }
    for (const { changes } of batch.commits) this.history.push(...changes);
  }
}

async function opened(): Promise<TinyBackend> {
  const backend = new TinyBackend();
  await backend.open();
  backend.calls.length = 0;
  return backend;
}

const put = (key: string, value = '{}') => ({ type: 'put' as const, key, value });

test('calls before open and after close are refused by the core, and no hook runs', async () => {
  const backend = new TinyBackend();
  for (const op of [
    backend.get('k'),
    backend.snapshot(),
    backend.commit([put('k')]),
    backend.currentRevision(),
    backend.changesSince(0, 10),
  ]) {
    expect(await rejection(op)).toMatchObject({ code: 'UNAVAILABLE', message: 'tiny backend is closed' });
  }
  expect(backend.calls).toEqual([]);
  await backend.open();
  await backend.close();
  backend.calls.length = 0;
  expect((await rejection(backend.commit([put('k')]))).code).toBe('UNAVAILABLE');
  expect(backend.calls).toEqual([]);
});

test('open and close are each run once however often they are called, and a failed open can be retried', async () => {
  const backend = new TinyBackend();
  backend.failOpen = true;
  await expect(backend.open()).rejects.toThrow('disk on fire');
  expect(backend.status).toBe('closed');
  backend.failOpen = false;
  await Promise.all([backend.open(), backend.open()]);
  expect(backend.status).toBe('open');
  await Promise.all([backend.close(), backend.close()]);
  await backend.close();
  expect(backend.calls).toEqual(['open', 'open', 'close']);
});

test('close waits for a commit being written, and refuses commits queued after it began', async () => {
  const backend = await opened();
  backend.slowWrite = true;
  const first = backend.commit([put('a')]);
  await new Promise((resolve) => setImmediate(resolve));
  const closing = backend.close();
  await new Promise((resolve) => setImmediate(resolve));
  expect(backend.status).toBe('closing');
  expect((await rejection(backend.commit([put('b')]))).code).toBe('UNAVAILABLE');
  backend.finishWrite?.();
  expect(await first).toEqual({ revision: 1, applied: [true] });
  await closing;
  expect(backend.calls).toEqual(['get', 'write', 'close']);
});

test('a snapshot read after release is refused even though the hook’s reader would answer', async () => {
  const backend = await opened();
  await backend.commit([put('k')]);
  const snapshot = await backend.snapshot();
  expect(snapshot.getManySync(['k'])[0]).toMatchObject({ key: 'k' });
  await snapshot.release();
  await snapshot.release();
  for (const op of [snapshot.get('k'), snapshot.getMany(['k']), snapshot.scan('', { limit: 5 })]) {
    expect(await rejection(op)).toMatchObject({ code: 'INTERNAL', message: 'snapshot used after release' });
  }
  expect(() => snapshot.getManySync(['k'])).toThrow('snapshot used after release');
});

test('getManySync is refused where supports says the backend has none', async () => {
  const backend = await opened();
  backend.supports = { ...backend.supports, getManySync: false };
  const snapshot = await backend.snapshot();
  expect(() => snapshot.getManySync(['k'])).toThrow('no synchronous reads');
  expect(await snapshot.getMany(['k'])).toEqual([undefined]);
});

test('the core numbers revisions and folds mutations; a commit that changes nothing writes nothing', async () => {
  const backend = await opened();
  expect(await backend.commit([put('a', '{"v":1}'), put('a', '{"v":2}'), { type: 'delete', key: 'b' }])).toEqual({
    revision: 1,
    applied: [true, true, false],
  });
  expect(await backend.commit([{ type: 'delete', key: 'nothing' }])).toEqual({ revision: 1, applied: [false] });
  expect(await backend.commit([{ type: 'delete', key: 'a' }, put('a', '{"v":3}')])).toEqual({
    revision: 2,
    applied: [true, true],
  });
  expect(backend.batches.map((b) => b.revision)).toEqual([1, 2]);
  expect(backend.batches[1]?.writes.get('a')).toEqual({
    revision: 2,
    kv: { key: 'a', value: '{"v":3}', createRevision: 2, modRevision: 2 },
  });
  expect(backend.batches[0]?.commits).toEqual([
    {
      revision: 1,
      changes: [
        { type: 'put', key: 'a', value: '{"v":1}', revision: 1 },
        { type: 'put', key: 'a', value: '{"v":2}', revision: 1 },
      ],
    },
  ]);
  expect(await backend.currentRevision()).toBe(2);
});

test('conditions are the core’s: key guards, prefix guards from the hook, in-group changes, and the history window', async () => {
  const backend = await opened();
  await backend.commit([put('k')]);
  expect(await rejection(backend.commit([put('x')], [{ type: 'key', key: 'k', modRevision: 0 }]))).toMatchObject({
    code: 'CONDITION_FAILED',
    message: 'condition on key failed',
    details: { key: 'k' },
  });
  backend.changedUnder = 'p/1';
  expect(await rejection(backend.commit([put('x')], [{ type: 'prefix', prefix: 'p/', revision: 0 }]))).toMatchObject({
    message: 'a key under the guarded prefix changed',
    details: { key: 'p/1' },
  });
  // A guard at the current revision needs no history: the hook is not asked.
  backend.calls.length = 0;
  await backend.commit([put('y')], [{ type: 'prefix', prefix: 'p/', revision: 1 }]);
  expect(backend.calls).not.toContain('changedUnder');
  backend.oldest = 3;
  expect(await rejection(backend.commit([put('x')], [{ type: 'prefix', prefix: 'p/', revision: 1 }]))).toMatchObject({
    message: 'prefix guard is older than the retained history',
    details: { key: 'p/' },
  });
  // Commits queued together while another is written: the second one's guard sees the first one's
  // change before either is written (the hook knows nothing of it).
  backend.oldest = 1;
  backend.changedUnder = undefined;
  const revision = await backend.currentRevision();
  backend.slowWrite = true;
  const writing = backend.commit([put('w')]);
  await new Promise((resolve) => setImmediate(resolve));
  const first = backend.commit([put('g/1')]);
  const second = rejection(backend.commit([put('z')], [{ type: 'prefix', prefix: 'g/', revision }]));
  backend.slowWrite = false;
  backend.finishWrite?.();
  await writing;
  expect((await first).revision).toBe(revision + 2);
  expect(await second).toMatchObject({ code: 'CONDITION_FAILED', details: { key: 'g/1' } });
  expect(backend.batches[backend.batches.length - 1]?.commits.map((c) => c.revision)).toEqual([revision + 2]);
});

test('a write that fails fails the commits it carried, moves no revision, tells no subscriber, and the next commit works', async () => {
  const backend = await opened();
  const heard: Change[][] = [];
  backend.subscribe((changes) => heard.push([...changes]));
  backend.failWrite = true;
  const failed = await Promise.all([rejection(backend.commit([put('a')])), rejection(backend.commit([put('b')]))]);
  expect(failed.map((e) => (e as Error).message)).toEqual(['write failed', 'write failed']);
  expect(await backend.currentRevision()).toBe(0);
  expect(heard).toEqual([]);
  backend.failWrite = false;
  expect(await backend.commit([put('c')])).toEqual({ revision: 1, applied: [true] });
  expect(heard).toEqual([[{ type: 'put', key: 'c', value: '{}', revision: 1 }]]);
});

test('changesSince outside the window is COMPACTED, and nothing new asks no hook', async () => {
  const backend = await opened();
  await backend.commit([put('a')]);
  await backend.commit([put('b')]);
  backend.oldest = 2;
  expect(await rejection(backend.changesSince(0, 10))).toMatchObject({
    code: 'COMPACTED',
    message: 'revision 1 is older than the retained history',
  });
  backend.calls.length = 0;
  expect(await backend.changesSince(2, 10)).toEqual([]);
  expect(await backend.changesSince(1, 0)).toEqual([]);
  expect(backend.calls).toEqual([]);
  expect(await backend.changesSince(1, 10)).toEqual([{ type: 'put', key: 'b', value: '{}', revision: 2 }]);
});
