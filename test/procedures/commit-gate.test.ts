/**
 * CommitGate: a fair reader-writer lock. Shared holders overlap, an exclusive
 * holder excludes everyone, waiters are served in arrival order (an
 * exclusive waiter is not starved by later shared arrivals), and releasing
 * twice is harmless.
 */
import { CommitGate } from '../../src/procedures/commit-gate';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A shared section that stays open until `finish` is called. */
function openShared(gate: CommitGate, log: string[], name: string) {
  let finish!: () => void;
  const done = gate.withShared(async () => {
    log.push(`${name}+`);
    await new Promise<void>((resolve) => (finish = resolve));
    log.push(`${name}-`);
  });
  return { done, finish: () => finish() };
}

test('shared holders run at the same time', async () => {
  const gate = new CommitGate();
  const log: string[] = [];
  const a = openShared(gate, log, 'a');
  const b = openShared(gate, log, 'b');
  await tick();
  expect(log).toEqual(['a+', 'b+']);
  a.finish();
  b.finish();
  await Promise.all([a.done, b.done]);
});

test('an exclusive holder waits for the shared holders, and later shared callers wait for it', async () => {
  const gate = new CommitGate();
  const log: string[] = [];
  const a = openShared(gate, log, 'a');
  await tick();
  const exclusive = gate.exclusive().then((release) => {
    log.push('x+');
    return release;
  });
  const late = openShared(gate, log, 'late');
  await tick();
  expect(log).toEqual(['a+']);
  a.finish();
  const release = await exclusive;
  await tick();
  expect(log).toEqual(['a+', 'a-', 'x+']);
  release();
  await tick();
  expect(log).toEqual(['a+', 'a-', 'x+', 'late+']);
  late.finish();
  await late.done;
});

test('waiters are served in arrival order', async () => {
  const gate = new CommitGate();
  const order: string[] = [];
  const first = await gate.exclusive();
  const waiters = ['s1', 'x1', 's2', 's3', 'x2'].map((name) =>
    name.startsWith('x')
      ? gate.exclusive().then((release) => {
          order.push(name);
          release();
        })
      : gate.withShared(async () => void order.push(name)),
  );
  await tick();
  expect(order).toEqual([]);
  first();
  await Promise.all(waiters);
  expect(order).toEqual(['s1', 'x1', 's2', 's3', 'x2']);
});

test('releasing an exclusive hold twice does not release someone else', async () => {
  const gate = new CommitGate();
  const release = await gate.exclusive();
  release();
  const second = await gate.exclusive();
  release(); // stale: must not free the second holder
  let entered = false;
  const shared = gate.withShared(async () => {
    entered = true;
  });
  await tick();
  expect(entered).toBe(false);
  second();
  await shared;
  expect(entered).toBe(true);
});

test('a shared section that throws still releases the gate', async () => {
  const gate = new CommitGate();
  await expect(
    gate.withShared(async () => {
      throw new Error('boom');
    }),
  ).rejects.toThrow('boom');
  const release = await gate.exclusive();
  release();
});
