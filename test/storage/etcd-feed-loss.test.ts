/**
 * The etcd feed tells subscribers that must see every commit (the engine
 * hosts' read caches) when its watch lost commits: etcd cancelled the watch
 * and the feed restarts it "from now". Against a real etcd; the cancellation
 * is the watcher's error event, raised here directly.
 */
import type { EventEmitter } from 'node:events';
import { EtcdBackend } from '../../src/storage/etcd';
import { type RunningEtcd, startEtcd } from '../helpers/etcd';

let etcd: RunningEtcd | undefined;

beforeAll(async () => {
  etcd = await startEtcd();
}, 30000);

afterAll(async () => {
  await etcd?.stop();
});

const until = async (what: () => boolean, ms = 10000): Promise<void> => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('a cancelled watch reports the loss at once, then the revision after which commits flow again, and they do', async () => {
  const backend = new EtcdBackend({ endpoints: [(etcd as RunningEtcd).endpoint], namespace: 'loss/' });
  await backend.open();
  try {
    const losses: (number | undefined)[] = [];
    const seen: number[] = [];
    const unsubscribe = backend.subscribe(
      (changes) => {
        if (changes[0] !== undefined) seen.push(changes[0].revision);
      },
      (after) => losses.push(after),
    );
    const first = await backend.commit([{ type: 'put', key: 'b/a', value: '{}' }]);
    await until(() => seen.includes(first.revision));
    // What etcd does when the watch's resume point was compacted while it was disconnected.
    const watcher = (backend as unknown as { feed: { watcher: EventEmitter } }).feed.watcher;
    watcher.emit('error', new Error('etcdserver: mvcc: required revision has been compacted'));
    expect(losses[0]).toBeUndefined();
    expect(losses).toHaveLength(1);
    await until(() => losses.length === 2);
    expect(losses[1]).toBeGreaterThanOrEqual(first.revision);
    const next = await backend.commit([{ type: 'put', key: 'b/b', value: '{}' }]);
    await until(() => seen.includes(next.revision));
    expect(next.revision).toBeGreaterThan(losses[1] as number);
    unsubscribe();
  } finally {
    await backend.close();
  }
});
