/**
 * ScriptTurns: a script whose runs never lost a commit race never waits;
 * after a loss its runs take turns in arrival order for a window of time and
 * a number of turns, then all waiting runs go at once; a wait ends without a
 * turn at the run's deadline or on its caller's cancellation; ending a turn
 * twice is harmless; scripts do not wait on each other.
 */
import { type EndTurn, ScriptTurns } from '../../src/procedures/script-turns';

const tick = () => new Promise((resolve) => setImmediate(resolve));
const FAR = () => Date.now() + 60_000;

/** A clock the test moves. */
function clock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** Starts a run that waits for its turn; `got` says whether it has one yet. */
function start(turns: ScriptTurns, script: string, deadline = FAR(), signal?: AbortSignal) {
  const state: { end?: EndTurn; got: boolean } = { got: false };
  const done = Promise.resolve(turns.take(script, deadline, signal)).then((end) => {
    state.end = end;
    state.got = true;
    return end;
  });
  return Object.assign(state, { done });
}

test('a script that never lost a race never waits', async () => {
  const turns = new ScriptTurns();
  const runs = [start(turns, 's'), start(turns, 's'), start(turns, 's')];
  await tick();
  expect(runs.map((r) => r.got)).toEqual([true, true, true]);
  expect(turns.contended('s')).toBe(false);
});

test('after a lost race, runs take turns in arrival order; other scripts do not wait', async () => {
  const c = clock();
  const turns = new ScriptTurns(200, 2, c.now);
  turns.conflicted('s');
  const a = start(turns, 's');
  const b = start(turns, 's');
  const d = start(turns, 's');
  const other = start(turns, 'other');
  await tick();
  expect([a.got, b.got, d.got, other.got]).toEqual([true, false, false, true]);
  a.end?.();
  a.end?.(); // twice: harmless, b gets the turn once
  await tick();
  expect([b.got, d.got]).toEqual([true, false]);
  b.end?.();
  await tick();
  expect(d.got).toBe(true);
});

test('taking turns lasts the window and the minimum number of turns, then every waiting run goes at once', async () => {
  const c = clock();
  const turns = new ScriptTurns(200, 2, c.now);
  turns.conflicted('s');
  const first = start(turns, 's');
  const waiting = [start(turns, 's'), start(turns, 's'), start(turns, 's')];
  await tick();
  // The window passes, but only one of the two turns has been taken.
  c.advance(500);
  first.end?.();
  await tick();
  expect(waiting.map((r) => r.got)).toEqual([true, false, false]);
  // The second turn ends after the window: taking turns is over.
  waiting[0]?.end?.();
  await tick();
  expect(waiting.map((r) => r.got)).toEqual([true, true, true]);
  expect(turns.contended('s')).toBe(false);
  const later = [start(turns, 's'), start(turns, 's')];
  await tick();
  expect(later.map((r) => r.got)).toEqual([true, true]);
});

test('turns taken within the window do not end it; a further loss renews it', async () => {
  const c = clock();
  const turns = new ScriptTurns(200, 1, c.now);
  turns.conflicted('s');
  for (let i = 0; i < 3; i++) {
    c.advance(100);
    if (i === 1) turns.conflicted('s'); // at 200 ms: the window now ends at 400 ms
    const holder = start(turns, 's');
    const waiter = start(turns, 's');
    await tick();
    expect([holder.got, waiter.got]).toEqual([true, false]);
    holder.end?.();
    await tick();
    expect(waiter.got).toBe(true);
    waiter.end?.();
    expect(turns.contended('s')).toBe(true);
  }
  c.advance(100);
  expect(turns.contended('s')).toBe(false);
  const both = [start(turns, 's'), start(turns, 's')];
  await tick();
  expect(both.map((r) => r.got)).toEqual([true, true]);
});

test('a wait ends without a turn at the deadline; the turn then skips it', async () => {
  const turns = new ScriptTurns();
  turns.conflicted('s');
  const holder = start(turns, 's');
  const late = start(turns, 's', Date.now() + 30);
  const next = start(turns, 's');
  await new Promise((resolve) => setTimeout(resolve, 80));
  expect(late.got).toBe(true);
  expect(next.got).toBe(false);
  late.end?.(); // it holds no turn: nothing happens
  await tick();
  expect(next.got).toBe(false);
  holder.end?.();
  await tick();
  expect(next.got).toBe(true);
});

test('a wait ends without a turn when the caller cancels, before or while waiting', async () => {
  const turns = new ScriptTurns();
  turns.conflicted('s');
  const holder = start(turns, 's');
  const controller = new AbortController();
  const cancelled = start(turns, 's', FAR(), controller.signal);
  const aborted = AbortSignal.abort();
  const already = start(turns, 's', FAR(), aborted);
  const next = start(turns, 's');
  await tick();
  expect([cancelled.got, already.got, next.got]).toEqual([false, true, false]);
  controller.abort();
  await tick();
  expect(cancelled.got).toBe(true);
  holder.end?.();
  await tick();
  expect(next.got).toBe(true);
});

test('a run waits at most the longest wait, then goes on without a turn', async () => {
  const turns = new ScriptTurns(200, 64, () => performance.now(), 30);
  turns.conflicted('s');
  const holder = start(turns, 's'); // a slow run: holds its turn throughout
  const waiter = start(turns, 's');
  await tick();
  expect([holder.got, waiter.got]).toEqual([true, false]);
  await new Promise((resolve) => setTimeout(resolve, 80));
  expect(waiter.got).toBe(true);
  waiter.end?.(); // it holds no turn: the holder's turn is untouched
  const next = start(turns, 's');
  await tick();
  expect(next.got).toBe(false);
  holder.end?.();
  await tick();
  expect(next.got).toBe(true);
});

test('scripts whose turns are over are forgotten, so scripts run once (Eval sources) do not pile up', async () => {
  const c = clock();
  const turns = new ScriptTurns(200, 1, c.now);
  for (let i = 0; i < 1024; i++) turns.conflicted(`eval:${i}`);
  const held = start(turns, 'eval:7'); // holds its turn through the sweep: kept
  await tick();
  c.advance(500);
  turns.conflicted('eval:new');
  const size = (turns as unknown as { scripts: Map<string, unknown> }).scripts.size;
  expect(size).toBe(2);
  expect(turns.contended('eval:7')).toBe(true);
  held.end?.();
  expect(turns.contended('eval:new')).toBe(true);
});
