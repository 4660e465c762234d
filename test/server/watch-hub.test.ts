/**
 * The Watch fan-out (watch-hub.ts) and one stream's life (watch-stream.ts)
 * against every backend (memory, leveldb, a real etcd), without gRPC: every
 * revision once, in order, with no gaps, across catch-up and going live while
 * writers commit; a slow consumer is bounded in bytes and ends with
 * WATCH_BEHIND naming where to resume, keeping nothing; streams on other
 * buckets and prefixes are never called.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WatchEvent } from '../../src/generated/lucien/v1/WatchEvent';
import { WatchHub, type HubSubscriber } from '../../src/server/watch-hub';
import { WatchStream, type WatchSink, type WatchTarget } from '../../src/server/watch-stream';
import type { Backend } from '../../src/storage/backend';
import { BucketSpace } from '../../src/storage/buckets';
import { EtcdBackend } from '../../src/storage/etcd';
import { LevelDbBackend } from '../../src/storage/leveldb';
import { MemoryBackend } from '../../src/storage/memory';
import { type RunningEtcd, startEtcd } from '../helpers/etcd';

/** A transport that flushes at once ('fast') or never ('stuck'). */
class FakeSink extends EventEmitter implements WatchSink {
  cancelled = false;
  readonly events: WatchEvent[] = [];
  handedBytes = 0;
  constructor(private readonly mode: 'fast' | 'stuck') {
    super();
  }
  write(event: WatchEvent, flushed: () => void): boolean {
    this.events.push(event);
    this.handedBytes += (event.value ?? '').length;
    if (this.mode === 'fast') setImmediate(flushed);
    return true;
  }
  cancel(): void {
    this.cancelled = true;
    this.emit('cancelled');
  }
}

async function until(predicate: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Open {
  readonly backend: Backend;
  close(): Promise<void>;
}

let etcd: RunningEtcd | undefined;
let etcdNamespaces = 0;

const BACKENDS: [string, () => Promise<Open>][] = [
  [
    'memory',
    async () => {
      const backend = new MemoryBackend({ historyRevisions: 100_000 });
      await backend.open();
      return { backend, close: () => backend.close() };
    },
  ],
  [
    'leveldb',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'lucien-hub-'));
      const backend = new LevelDbBackend({ location: dir, historyRevisions: 100_000 });
      await backend.open();
      return {
        backend,
        close: async () => {
          await backend.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  ],
  [
    'etcd',
    async () => {
      etcd ??= await startEtcd();
      const backend = new EtcdBackend({
        endpoints: [etcd.endpoint],
        namespace: `hub${++etcdNamespaces}/`,
        historyRevisions: 100_000,
      });
      await backend.open();
      return { backend, close: () => backend.close() };
    },
  ],
];

afterAll(async () => {
  await etcd?.stop();
});

const put = (key: string, value: string) => [{ type: 'put' as const, key, value }];

describe.each(BACKENDS)('%s', (_name, open) => {
  let store: Open;
  let hub: WatchHub;
  beforeEach(async () => {
    store = await open();
    hub = new WatchHub(new BucketSpace(store.backend));
    await hub.start();
  }, 60_000);
  afterEach(async () => {
    hub.stop();
    await store.close();
  });

  function watch(target: WatchTarget, sink: FakeSink, bufferBytes = 1024 * 1024): Promise<void> {
    return new WatchStream(hub, new BucketSpace(store.backend), sink, target, { bufferBytes, pageChanges: 16 }).run();
  }

  test('every revision once, in order, with no gaps, across catch-up and going live while writers commit', async () => {
    const mine: number[] = [];
    let i = 0;
    const writeOne = async (): Promise<void> => {
      const n = i++;
      const { revision } = await store.backend.commit(put(`g/k${n % 7}`, `{"n":${n}}`));
      mine.push(revision);
      await store.backend.commit(put(`other/k${n % 3}`, '{}')); // never seen: another bucket
    };
    for (let k = 0; k < 30; k++) await writeOne();
    const fromFirst = new FakeSink('fast');
    const fromMiddle = new FakeSink('fast');
    const fromNow = new FakeSink('fast');
    const runs = [
      watch({ bucket: 'g', prefix: '', startRevision: mine[0] as number }, fromFirst),
      watch({ bucket: 'g', prefix: '', startRevision: mine[15] as number }, fromMiddle),
    ];
    const nowAfter = hub.latest;
    runs.push(watch({ bucket: 'g', prefix: '', startRevision: 0 }, fromNow));
    const writers = Array.from({ length: 4 }, async () => {
      for (let k = 0; k < 25; k++) await writeOne();
    });
    // One more joins mid-way, resuming from a revision already committed.
    await until(() => mine.length >= 60);
    const joinAt = mine[50] as number;
    const late = new FakeSink('fast');
    runs.push(watch({ bucket: 'g', prefix: '', startRevision: joinAt }, late));
    await Promise.all(writers);
    const sorted = [...mine].sort((a, b) => a - b);
    const last = sorted[sorted.length - 1] as number;
    const sinks = [fromFirst, fromMiddle, fromNow, late];
    await until(() => sinks.every((s) => s.events[s.events.length - 1]?.revision === last));
    for (const s of sinks) s.cancel();
    await Promise.all(runs);
    expect(fromFirst.events.map((e) => e.revision)).toEqual(sorted);
    expect(fromMiddle.events.map((e) => e.revision)).toEqual(sorted.filter((r) => r >= (mine[15] as number)));
    expect(fromNow.events.map((e) => e.revision)).toEqual(sorted.filter((r) => r > nowAfter));
    expect(late.events.map((e) => e.revision)).toEqual(sorted.filter((r) => r >= joinAt));
    expect(fromFirst.events.every((e) => e.bucket === 'g' && e.type === 'PUT')).toBe(true);
    expect(hub.streamCount).toBe(0);
    expect(hub.liveCount).toBe(0);
  }, 120_000);

  test('a live consumer that stops reading ends with WATCH_BEHIND past its byte budget, naming where to resume, and keeps nothing', async () => {
    const stuck = new FakeSink('stuck');
    const run = watch({ bucket: 'slow', prefix: '', startRevision: 0 }, stuck, 64 * 1024);
    const value = JSON.stringify({ blob: 'x'.repeat(4096) });
    const revisions: number[] = [];
    for (let k = 0; k < 40; k++) revisions.push((await store.backend.commit(put(`slow/k${k}`, value))).revision);
    const err = await run.then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string; details: { revision?: number } },
    );
    expect(err?.code).toBe('WATCH_BEHIND');
    // What it was handed is bounded by the budget; the resume point is the first commit it was not handed.
    expect(stuck.handedBytes).toBeLessThanOrEqual(64 * 1024);
    const handed = stuck.events.map((e) => e.revision);
    expect(handed).toEqual(revisions.slice(0, handed.length));
    const resume = revisions[handed.length] as number;
    expect(err?.details.revision).toBe(resume);
    expect(err?.message).toContain(`resume with start_revision ${resume}`);
    expect(hub.streamCount).toBe(0);
    expect(hub.liveCount).toBe(0);
    // Resuming there gives exactly the rest.
    const rest = new FakeSink('fast');
    const again = watch({ bucket: 'slow', prefix: '', startRevision: resume }, rest);
    await until(() => rest.events.length >= revisions.length - handed.length);
    rest.cancel();
    await again;
    expect([...handed, ...rest.events.map((e) => e.revision)]).toEqual(revisions);
  }, 60_000);

  test('a consumer that stops reading while catching up holds at most its window, and cancels cleanly', async () => {
    const value = JSON.stringify({ blob: 'y'.repeat(4096) });
    const first = (await store.backend.commit(put('back/k0', value))).revision;
    for (let k = 1; k < 60; k++) await store.backend.commit(put(`back/k${k}`, value));
    const stuck = new FakeSink('stuck');
    const run = watch({ bucket: 'back', prefix: '', startRevision: first }, stuck, 64 * 1024);
    await until(() => stuck.events.length > 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(stuck.handedBytes).toBeLessThanOrEqual(32 * 1024 + 4200);
    expect(hub.liveCount).toBe(0); // still catching up: not in the index
    stuck.cancel();
    await run;
    expect(hub.streamCount).toBe(0);
  }, 60_000);

  test('a whole-store stream sees every bucket, in order, with the prefix applied within each bucket', async () => {
    const all = new FakeSink('fast');
    const run = watch({ bucket: undefined, prefix: 'p', startRevision: 0 }, all);
    const r1 = (await store.backend.commit(put('a/p1', '{}'))).revision;
    await store.backend.commit(put('a/q1', '{}'));
    const r2 = (
      await store.backend.commit([
        { type: 'put', key: 'b/p2', value: '{}' },
        { type: 'delete', key: 'a/p1' },
      ])
    ).revision;
    await until(() => all.events.length >= 3);
    all.cancel();
    await run;
    expect(all.events.map((e) => [e.type, e.bucket, e.key, e.revision])).toEqual([
      ['PUT', 'a', 'p1', r1],
      ['PUT', 'b', 'p2', r2],
      ['DELETE', 'a', 'p1', r2],
    ]);
  }, 60_000);
});

test('streams on other buckets or prefixes are never called: 10,000 idle subscribers cost no deliveries', async () => {
  const backend = new MemoryBackend();
  await backend.open();
  const hub = new WatchHub(new BucketSpace(backend));
  await hub.start();
  let idleCalls = 0;
  const removals: (() => void)[] = [];
  for (let k = 0; k < 10_000; k++) {
    const sub: HubSubscriber = {
      bucket: k % 2 === 0 ? `idle${k}` : 'hot',
      prefix: k % 2 === 0 ? '' : `nomatch${k}/`,
      deliver: () => idleCalls++,
    };
    removals.push(hub.add(sub));
  }
  const seen: string[] = [];
  removals.push(hub.add({ bucket: 'hot', prefix: 'k', deliver: (change) => seen.push(change.key) }));
  for (let k = 0; k < 100; k++) await backend.commit(put(`hot/k${k}`, '{}'));
  expect(idleCalls).toBe(0);
  expect(seen).toHaveLength(100);
  for (const remove of removals) remove();
  expect(hub.liveCount).toBe(0);
  hub.stop();
  await backend.close();
});
