/**
 * Watch (DESIGN §3): a bucket's committed history, in revision order, with no
 * gaps or duplicates; Batch and script commits appear under their one
 * revision; resumable from a retained revision; OUT_OF_RANGE past the
 * history window; a slow consumer is flow-controlled, not buffered without
 * bound, and is ended with OUT_OF_RANGE once it falls out of the window.
 */
import * as grpc from '@grpc/grpc-js';
import { connect, type TestClient, watchStream } from '../helpers/client';
import { type RunningServer, startServer } from '../helpers/server';

let server: RunningServer;
let client: TestClient;

beforeAll(async () => {
  server = await startServer({ args: ['--history-revisions', '200'] });
  client = connect(server.address);
});

afterAll(async () => {
  client?.close();
  await server?.stop();
  server?.cleanup();
});

const watch = (request: object) => watchStream(client, request);

async function until(predicate: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The store's next revision: watching from it needs no wait for the stream to be set up. */
async function nextRevision(): Promise<number> {
  return (await client.call<{ revision: number }>('Put', { bucket: 'clock', key: 'tick', value: '{}' })).revision + 1;
}

test('a watcher sees puts, deletes, a Batch and a script commit in order, once each, filtered by bucket and prefix', async () => {
  const from = await nextRevision();
  const w = watch({ bucket: 'feed', prefix: 'a', start_revision: from });
  const other = watch({ bucket: 'feed', start_revision: from });
  const r1 = (await client.call<{ revision: number }>('Put', { bucket: 'feed', key: 'a1', value: '{"n":1}' })).revision;
  await client.call('Put', { bucket: 'elsewhere', key: 'a1', value: '{}' });
  await client.call('Put', { bucket: 'feed', key: 'b1', value: '{}' });
  const r2 = (
    await client.call<{ revision: number }>('Batch', {
      ops: [{ put: { bucket: 'feed', key: 'a2', value: '{"n":2}' } }, { delete: { bucket: 'feed', key: 'a1' } }],
    })
  ).revision;
  await client.call('PutScript', {
    name: 'feeder',
    engine: 'javascript',
    source: 'buckets.getBucket("feed").put("a3", { n: 3 });',
  });
  const r3 = (await client.call<{ revision: number }>('Run', { name: 'feeder' })).revision;
  // A sentinel after everything: once the unfiltered watcher sees it, every earlier event was delivered to both.
  await client.call('Put', { bucket: 'feed', key: 'zz-end', value: '{}' });
  await until(() => other.events.some((e) => e.key === 'zz-end'));
  await until(() => w.events.length >= 4);
  w.stream.cancel();
  other.stream.cancel();
  expect(w.events.map((e) => [e.type, e.key, e.revision])).toEqual([
    ['PUT', 'a1', r1],
    ['PUT', 'a2', r2],
    ['DELETE', 'a1', r2],
    ['PUT', 'a3', r3],
  ]);
  expect(JSON.parse(w.events[0]?.value ?? '')).toEqual({ n: 1 });
  expect(other.events.map((e) => e.key)).toEqual(['a1', 'b1', 'a2', 'a1', 'a3', 'zz-end']);
});

test('a watcher resumes from start_revision and replays the retained history exactly', async () => {
  const first = (await client.call<{ revision: number }>('Put', { bucket: 'resume', key: 'k', value: '{"v":1}' }))
    .revision;
  await client.call('Put', { bucket: 'resume', key: 'k', value: '{"v":2}' });
  await client.call('Delete', { bucket: 'resume', key: 'k' });
  const w = watch({ bucket: 'resume', start_revision: first });
  await until(() => w.events.length >= 3);
  w.stream.cancel();
  expect(w.events.map((e) => e.type)).toEqual(['PUT', 'PUT', 'DELETE']);
  expect(w.events.map((e) => e.revision)).toEqual([...w.events.map((e) => e.revision)].sort((a, b) => a - b));
  expect(w.events[0]?.revision).toBe(first);
});

test('a start_revision older than the history window is OUT_OF_RANGE', async () => {
  for (let i = 0; i < 250; i++) await client.call('Put', { bucket: 'churn', key: `k${i % 10}`, value: '{}' });
  const w = watch({ bucket: 'churn', start_revision: 1 });
  await w.ended;
  expect(w.error()?.code).toBe(grpc.status.OUT_OF_RANGE);
  expect(w.error()?.details).toMatch(/older than the retained history/);
});

test('a bad bucket name is INVALID_ARGUMENT', async () => {
  const w = watch({ bucket: 'no way' });
  await w.ended;
  expect(w.error()?.code).toBe(grpc.status.INVALID_ARGUMENT);
});

test('a consumer that stops reading is ended with OUT_OF_RANGE naming the revision to resume from, after a gap-free prefix', async () => {
  const from = await nextRevision();
  const w = watch({ bucket: 'flood', start_revision: from });
  w.stream.pause();
  const big = JSON.stringify({ blob: 'x'.repeat(32 * 1024) });
  // 400 commits of 32 KiB (~13 MiB) overflow the HTTP/2 windows and the 200-revision history.
  const revisions: number[] = [];
  for (let i = 0; i < 400; i++) {
    revisions.push(
      (await client.call<{ revision: number }>('Put', { bucket: 'flood', key: `k${i}`, value: big })).revision,
    );
  }
  w.stream.resume();
  await w.ended;
  expect(w.error()?.code).toBe(grpc.status.OUT_OF_RANGE);
  // What was delivered is exactly the first commits, in order, with no gap and nothing after the end.
  const delivered = w.events.map((e) => e.revision);
  expect(delivered.length).toBeGreaterThan(0);
  expect(delivered.length).toBeLessThan(revisions.length);
  expect(delivered).toEqual(revisions.slice(0, delivered.length));
  // The error names the first revision the consumer did not get.
  const resume = Number(/start_revision (\d+)/.exec(w.error()?.details ?? '')?.[1]);
  expect(resume).toBe((delivered.at(-1) as number) + 1);
});
