/**
 * Pipelining in EnginePool, against scripted fake hosts: a run expected to
 * write nothing is sent to a busy host behind a quick run (never behind a
 * writer, never before a run waiting ahead of it), and every failure of the
 * run ahead leaves the pipelined one whole: a host killed from outside, a
 * run ahead that times out, a pipelined run cancelled while it waits, and a
 * run message that reaches the host during the bridge call of the run ahead.
 */
import { EnginePool } from '../../src/procedures/pool';
import type { BridgeReply } from '../../engines/protocol';
import type { EngineRunRequest } from '../../src/procedures/script-engine';
import { silentLogger } from '../../src/log';
import { fakeHosts } from '../helpers/fake-host';

const hosts = fakeHosts();
afterAll(() => hosts.cleanup());

/** One pool host; the run ahead may be as slow as a test needs (the real limit is a few ms). */
const OPTIONS = {
  size: 1,
  memoryLimitBytes: 1 << 30,
  compileTimeoutMs: 2000,
  scriptCache: 16,
  pipelineBehindMs: 60_000,
};

/**
 * The fake host makes one bridge call first if the second arg says 'call' (so the run has started, as
 * the server sees it), sleeps the number of ms given as the first, then answers its args back.
 */
const SLEEPY = `
  const [ms = 0, first] = JSON.parse(msg.args);
  if (first === 'call') call('{"op":"get","bucket":"b","key":"k"}');
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  done(msg, msg.args);`;

const request = (args: unknown[], extra: Partial<EngineRunRequest> = {}): EngineRunRequest => ({
  name: 's',
  key: 's@1',
  source: 'x',
  args: JSON.stringify(args),
  timeoutMs: 10_000,
  limits: { maxLogBytes: 1024, maxResultBytes: 1 << 20 },
  pipeline: true,
  ...extra,
});

const noCalls = (): BridgeReply => ({ value: 'null' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A cache hook that only notes when the pool prepared the run (right before sending it). */
function sentAt(times: number[]): NonNullable<EngineRunRequest['cache']> {
  return {
    sync: async () => {
      times.push(Date.now());
      return { revision: 1, changed: [], reset: false, maxReadBatch: 10, maxBytes: 0 };
    },
    record: () => undefined,
  };
}

async function warmPool(name: string, onRun: string): Promise<EnginePool> {
  const pool = new EnginePool(hosts.spec(name, { onRun }), OPTIONS, silentLogger);
  await pool.warm();
  // One run first: the pool learns the script's duration and the host holds it.
  await pool.run(request([0]), noCalls);
  return pool;
}

test('a read-only run is sent to a busy host behind a quick run, before that one ends; a writer is not', async () => {
  const pool = await warmPool('pipelined', SLEEPY);
  try {
    const sent: number[] = [];
    const ahead = pool.run(request([400]), noCalls).then((r) => ({ result: r.result, at: Date.now() }));
    await sleep(100);
    const behind = await pool.run(request([0], { cache: sentAt(sent) }), noCalls);
    const first = await ahead;
    expect(first.result).toBe('[400]');
    expect(behind.result).toBe('[0]');
    // Prepared and sent while the run ahead still ran.
    expect(sent[0]).toBeLessThan(first.at);

    const writerSent: number[] = [];
    const ahead2Started = Date.now();
    const ahead2 = pool.run(request([400]), noCalls);
    await sleep(100);
    await pool.run(request([0], { pipeline: false, cache: sentAt(writerSent) }), noCalls);
    await ahead2;
    // Prepared only once the run ahead had answered: its host slept 400 ms first. (The host is handed to the
    // writer before the run ahead's own promise settles, so compare with when that run could first end.)
    expect(writerSent[0]).toBeGreaterThanOrEqual(ahead2Started + 400);
  } finally {
    await pool.close();
  }
});

test('a host killed while a run waits behind the one it runs: that run fails, the waiting one runs on the replacement', async () => {
  const pool = await warmPool('killed', SLEEPY);
  try {
    const [pid] = pool.pids;
    const sent: number[] = [];
    const ahead = pool.run(request([5000, 'call']), noCalls);
    const aheadFailed = expect(ahead).rejects.toMatchObject({ code: 'ENGINE_LOST' });
    await sleep(100);
    const behind = pool.run(request([0], { cache: sentAt(sent) }), noCalls);
    await sleep(100);
    expect(sent).toHaveLength(1);
    process.kill(pid as number, 'SIGKILL');
    await aheadFailed;
    // It never started on the lost host, so it went to the next one.
    expect((await behind).result).toBe('[0]');
    expect(sent).toHaveLength(2);
    expect(pool.pids).not.toContain(pid);
  } finally {
    await pool.close();
  }
});

test('the run ahead timing out kills its host; the run waiting behind it runs on the replacement', async () => {
  const pool = await warmPool('timeout', SLEEPY);
  try {
    const ahead = pool.run(request([5000], { timeoutMs: 300 }), noCalls);
    const aheadFailed = expect(ahead).rejects.toMatchObject({ code: 'SCRIPT_TIMEOUT' });
    await sleep(100);
    const behind = pool.run(request([0]), noCalls);
    await aheadFailed;
    expect((await behind).result).toBe('[0]');
  } finally {
    await pool.close();
  }
});

test('a pipelined run cancelled while it waits fails as cancelled; the run ahead of it finishes untouched', async () => {
  const pool = await warmPool('cancel', SLEEPY);
  try {
    const ahead = pool.run(request([400]), noCalls);
    await sleep(100);
    const controller = new AbortController();
    const sent: number[] = [];
    // Slow enough that the kill at its start lands before it could answer.
    const behind = pool.run(request([2000], { signal: controller.signal, cache: sentAt(sent) }), noCalls);
    const behindFailed = expect(behind).rejects.toMatchObject({ code: 'CANCELLED' });
    await sleep(50);
    expect(sent).toHaveLength(1);
    controller.abort();
    expect((await ahead).result).toBe('[400]');
    const cancelledAt = Date.now();
    await behindFailed;
    // Stopped as the host started it, not after it ran.
    expect(Date.now() - cancelledAt).toBeLessThan(1500);
    // The pool serves the next run (on a replacement if the cancel killed the host).
    expect((await pool.run(request([0]), noCalls)).result).toBe('[0]');
  } finally {
    await pool.close();
  }
});

test('a run sent during a bridge call of the run ahead waits in the host for that call to be answered', async () => {
  // The run makes one bridge call and answers what it got; the server answers it late.
  const onRun = `
  const args = JSON.parse(msg.args);
  const reply = args[0] === 'call' ? call('{"op":"get","bucket":"b","key":"k"}') : 'none';
  done(msg, JSON.stringify(reply));`;
  const pool = new EnginePool(hosts.spec('call', { onRun }), OPTIONS, silentLogger);
  try {
    await pool.warm();
    await pool.run(request(['warm']), noCalls);
    const sent: number[] = [];
    let answered = 0;
    const lateAnswer = async (): Promise<BridgeReply> => {
      await sleep(300);
      answered = Date.now();
      return { value: '{"late":true}' };
    };
    const ahead = pool.run(request(['call']), lateAnswer);
    await sleep(100);
    const behind = await pool.run(request(['plain'], { cache: sentAt(sent) }), noCalls);
    expect(JSON.parse((await ahead).result)).toBe('v{"late":true}');
    expect(JSON.parse(behind.result)).toBe('none');
    // The run behind was sent before the call ahead of it was answered.
    expect(sent[0]).toBeLessThan(answered);
  } finally {
    await pool.close();
  }
});

test('a run the host answers `missing` after another was sent behind it goes again without a cache sync (it must not move the cache back)', async () => {
  // The first run without source is answered `missing`, late; every other run answers the cache sync it carried.
  const onRun = `
  if (msg.source === undefined && !globalThis.missed) {
    globalThis.missed = true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    send(JSON.stringify({ t: 'missing', id: msg.id }));
  } else done(msg, JSON.stringify(msg.cache ?? null));`;
  const pool = new EnginePool(hosts.spec('missing', { onRun }), OPTIONS, silentLogger);
  const sync = (revision: number): NonNullable<EngineRunRequest['cache']> => ({
    sync: async () => ({ revision, changed: [], reset: false, maxReadBatch: 10, maxBytes: 1024 }),
    record: () => undefined,
  });
  try {
    await pool.warm();
    // Sent with its source: the server now counts the script as held.
    expect(JSON.parse((await pool.run(request([], { cache: sync(1) }), noCalls)).result)).toMatchObject({
      revision: 1,
    });
    const first = pool.run(request([], { cache: sync(2) }), noCalls);
    await sleep(100);
    const behind = await pool.run(request([], { cache: sync(3) }), noCalls);
    expect(JSON.parse(behind.result)).toMatchObject({ revision: 3 });
    // Sent again after the run behind it brought the host to revision 3: no sync at 2.
    expect(JSON.parse((await first).result)).toBeNull();
  } finally {
    await pool.close();
  }
});
