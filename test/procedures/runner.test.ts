/**
 * ScriptRunner in milliseconds: the memory backend, the real catalog and
 * transaction, and a fake engine whose "scripts" are TypeScript functions
 * speaking the bridge protocol. Covers commit, retry on conflict, the switch
 * to exclusive mode, the attempt limit, dry runs, failures and deadlines;
 * in every failing case nothing is written.
 */
import { isLucienError, LucienError } from '../../src/errors';
import type { Logger } from '../../src/log';
import { ScriptCatalog } from '../../src/procedures/catalog';
import type { RunnerLimits } from '../../src/procedures/run-input';
import { ScriptRunner } from '../../src/procedures/runner';
import { type BridgeHandler, EngineRegistry, type ScriptEngine } from '../../src/procedures/script-engine';
import { MemoryBackend } from '../../src/storage/memory';
import { Store } from '../../src/storage/store';

/** What a fake script gets: bridge calls as functions, plus its args and attempt number. */
interface Ctx {
  get(bucket: string, key: string): Promise<Record<string, unknown> | null>;
  put(bucket: string, key: string, value: object): Promise<void>;
  args: unknown[];
  attempt: number;
}
type Program = (ctx: Ctx) => Promise<unknown>;

const silent: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  child: () => silent,
} as unknown as Logger;

const LIMITS: RunnerLimits = {
  maxWrites: 100,
  maxReadBatch: 100,
  defaultTimeoutMs: 2000,
  maxTimeoutMs: 5000,
  maxResultBytes: 1 << 20,
  maxLogBytes: 1 << 16,
  maxArgsBytes: 1 << 16,
  maxAttempts: 6,
  optimisticAttempts: 2,
  maxScriptBytes: 256 * 1024,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An engine that runs `programs[source]`, enforcing the run's time limit as a real host would. */
function fakeEngine(programs: Record<string, Program>): ScriptEngine & { attempts: Map<string, number> } {
  const attempts = new Map<string, number>();
  const call = async (bridge: BridgeHandler, request: object): Promise<string> => {
    const reply = await bridge(JSON.stringify(request));
    if ('error' in reply) throw new LucienError('SCRIPT_ERROR', reply.error);
    if ('denied' in reply) throw new LucienError('SCRIPT_ERROR', reply.denied);
    return reply.value;
  };
  return {
    name: 'javascript',
    attempts,
    validate: async (_name, source) => {
      if (programs[source] === undefined) throw new LucienError('SCRIPT_SYNTAX', `no program ${source}`);
    },
    run: async (request, bridge) => {
      const program = programs[request.source] as Program;
      const attempt = (attempts.get(request.name) ?? 0) + 1;
      attempts.set(request.name, attempt);
      const ctx: Ctx = {
        get: async (bucket, key) =>
          JSON.parse(await call(bridge, { op: 'get', bucket, key })) as Record<string, unknown> | null,
        put: async (bucket, key, value) =>
          void (await call(bridge, { op: 'put', bucket, key, value: JSON.stringify(value) })),
        args: JSON.parse(request.args) as unknown[],
        attempt,
      };
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new LucienError('SCRIPT_TIMEOUT', 'time limit')), request.timeoutMs);
      });
      try {
        const result = await Promise.race([program(ctx), limit]);
        return { result: JSON.stringify(result ?? null), logs: [] };
      } finally {
        clearTimeout(timer);
      }
    },
    warm: async () => undefined,
    preload: async () => undefined,
    close: async () => undefined,
  };
}

async function setup(programs: Record<string, Program>, limits: Partial<RunnerLimits> = {}) {
  const backend = new MemoryBackend();
  await backend.open();
  const store = new Store(backend, { maxKeyBytes: 1024, maxValueBytes: 1 << 20 });
  const engine = fakeEngine(programs);
  const engines = new EngineRegistry([engine]);
  const catalog = new ScriptCatalog(store, engines, 256 * 1024);
  for (const name of Object.keys(programs))
    await catalog.put({ name, engine: 'javascript', source: name, description: '' });
  const runner = new ScriptRunner(store, catalog, engines, { ...LIMITS, ...limits });
  const run = (name: string, args: unknown[] = [], options: { dryRun?: boolean; timeoutMs?: number } = {}) =>
    runner.run(
      { name, args: JSON.stringify(args), dryRun: options.dryRun ?? false, timeoutMs: options.timeoutMs ?? 0 },
      silent,
    );
  const value = async (key: string) => {
    try {
      return JSON.parse((await store.get('b', key)).value) as Record<string, unknown>;
    } catch (err) {
      if (isLucienError(err) && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  };
  return { backend, store, engine, runner, run, value, close: () => (catalog.close(), backend.close()) };
}

const increment: Program = async (ctx) => {
  const v = (await ctx.get('b', 'n')) ?? { n: 0 };
  await ctx.put('b', 'n', { n: (v.n as number) + 1 });
  return (v.n as number) + 1;
};

test('a run commits its writes atomically under one revision and reports them', async () => {
  const t = await setup({
    pair: async (ctx) => {
      await ctx.put('b', 'x', { v: 1 });
      await ctx.put('b', 'y', { v: 2 });
      return 'ok';
    },
  });
  const out = await t.run('pair');
  expect(out).toMatchObject({ result: '"ok"', attempts: 1 });
  expect(out.writes.map((w) => w.key)).toEqual(['x', 'y']);
  expect((await t.store.get('b', 'x')).modRevision).toBe(out.revision);
  expect((await t.store.get('b', 'y')).modRevision).toBe(out.revision);
  await t.close();
});

test('a run whose read was changed by a concurrent commit is re-run and commits on the fresh state', async () => {
  let store: Store | undefined;
  const t = await setup({
    racy: async (ctx) => {
      const v = (await ctx.get('b', 'n')) ?? { n: 0 };
      // On the first attempt, someone else commits between our read and our commit.
      if (ctx.attempt === 1) await store?.put('b', 'n', JSON.stringify({ n: 100 }));
      await ctx.put('b', 'n', { n: (v.n as number) + 1 });
      return v.n;
    },
  });
  store = t.store;
  const out = await t.run('racy');
  expect(out.attempts).toBe(2);
  expect(JSON.parse(out.result)).toBe(100);
  expect(await t.value('n')).toEqual({ n: 101 });
  await t.close();
});

test('after the optimistic attempts a run goes exclusive: other scripts cannot commit between its read and its commit', async () => {
  let runner: ((name: string) => Promise<unknown>) | undefined;
  const interferers: Promise<unknown>[] = [];
  const t = await setup({
    increment,
    victim: async (ctx) => {
      const v = (await ctx.get('b', 'n')) ?? { n: 0 };
      // Every attempt, another script increments n right after our read.
      const other = (runner as (name: string) => Promise<unknown>)('increment');
      interferers.push(other);
      await Promise.race([other, sleep(20)]);
      await ctx.put('b', 'n', { n: (v.n as number) + 10 });
      return ctx.attempt;
    },
  });
  runner = (name) => t.run(name);
  const out = await t.run('victim');
  // Attempts 1 and 2 are optimistic and lose; attempt 3 holds the gate, so the increment waits for it.
  expect(out.attempts).toBe(LIMITS.optimisticAttempts + 1);
  await Promise.all(interferers);
  // 2 increments landed before the exclusive attempt, 1 after it; the victim added 10 on top of the first 2.
  expect(await t.value('n')).toEqual({ n: 2 + 10 + 1 });
  await t.close();
});

test("after a lost race a script's runs take turns: 8 concurrent increments of one key stop wasting attempts", async () => {
  const slowIncrement: Program = async (ctx) => {
    const v = (await ctx.get('b', 'n')) ?? { n: 0 };
    await sleep(2); // long enough for every concurrent run to read the same value
    await ctx.put('b', 'n', { n: (v.n as number) + 1 });
    return (v.n as number) + 1;
  };
  const t = await setup({ slowIncrement }, { maxAttempts: 20, optimisticAttempts: 20 });
  const rounds = 6; // fewer turns than the 64 that taking turns lasts at least
  const outs = [];
  for (let i = 0; i < rounds; i++)
    outs.push(...(await Promise.all(Array.from({ length: 8 }, () => t.run('slowIncrement')))));
  expect(await t.value('n')).toEqual({ n: rounds * 8 });
  expect(outs.map((o) => JSON.parse(o.result) as number).sort((a, b) => a - b)).toEqual(
    Array.from({ length: rounds * 8 }, (_, i) => i + 1),
  );
  // The first round collides (up to 1 + 2 + ... + 8 attempts); every later round takes turns: one attempt each.
  const later = outs.slice(8).reduce((sum, o) => sum + o.attempts, 0);
  expect(later).toBe((rounds - 1) * 8);
  await t.close();
});

test('a run that keeps conflicting fails with CONFLICT after maxAttempts and writes nothing', async () => {
  let store: Store | undefined;
  const t = await setup({
    doomed: async (ctx) => {
      const v = (await ctx.get('b', 'n')) ?? { n: 0 };
      // Plain KV writes never wait on the commit gate, so even exclusive attempts lose.
      await store?.put('b', 'n', JSON.stringify({ n: ctx.attempt * 1000 }));
      await ctx.put('b', 'n', { n: (v.n as number) + 1 });
      await ctx.put('b', 'mine', { written: true });
    },
  });
  store = t.store;
  const err = (await t.run('doomed').catch((e: unknown) => e)) as LucienError;
  expect(err.code).toBe('CONFLICT');
  expect(err.details?.attempts).toBe(LIMITS.maxAttempts);
  expect(await t.value('mine')).toBeUndefined();
  expect(await t.value('n')).toEqual({ n: LIMITS.maxAttempts * 1000 });
  await t.close();
});

test('a dry run returns the writes it would make and commits nothing; a read-only run commits nothing', async () => {
  const t = await setup({ increment, reader: async (ctx) => (await ctx.get('b', 'n'))?.n ?? null });
  const before = await t.backend.currentRevision();
  const dry = await t.run('increment', [], { dryRun: true });
  expect(dry.writes).toEqual([{ bucket: 'b', key: 'n', value: '{"n":1}' }]);
  expect(await t.value('n')).toBeUndefined();
  const ro = await t.run('reader');
  expect(ro).toMatchObject({ result: 'null', writes: [], attempts: 1 });
  expect(await t.backend.currentRevision()).toBe(before);
  await t.close();
});

test('a script that throws after writing writes nothing', async () => {
  const t = await setup({
    failing: async (ctx) => {
      await ctx.put('b', 'half', { v: 1 });
      throw new LucienError('SCRIPT_ERROR', 'Error: boom (line 2)');
    },
  });
  await expect(t.run('failing')).rejects.toMatchObject({ code: 'SCRIPT_ERROR' });
  expect(await t.value('half')).toBeUndefined();
  await t.close();
});

test('the time limit spans retries: a run that keeps conflicting ends with SCRIPT_TIMEOUT and writes nothing', async () => {
  let store: Store | undefined;
  const t = await setup(
    {
      slowConflict: async (ctx) => {
        const v = (await ctx.get('b', 'n')) ?? { n: 0 };
        await store?.put('b', 'n', JSON.stringify({ n: ctx.attempt }));
        await sleep(40);
        await ctx.put('b', 'n', { n: (v.n as number) + 1 });
        await ctx.put('b', 'mine', {});
      },
    },
    { maxAttempts: 1000 },
  );
  store = t.store;
  const started = Date.now();
  const err = (await t.run('slowConflict', [], { timeoutMs: 150 }).catch((e: unknown) => e)) as LucienError;
  expect(err.code).toBe('SCRIPT_TIMEOUT');
  expect(Date.now() - started).toBeLessThan(2000);
  expect(t.engine.attempts.get('slowConflict')).toBeGreaterThan(1);
  expect(await t.value('mine')).toBeUndefined();
  await t.close();
});

test('args must be a JSON array within the size limit', async () => {
  const t = await setup({ increment });
  for (const args of ['{"a":1}', 'not json', '"x"']) {
    await expect(t.runner.run({ name: 'increment', args, dryRun: false, timeoutMs: 0 }, silent)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  }
  const big = JSON.stringify(['x'.repeat(LIMITS.maxArgsBytes)]);
  await expect(
    t.runner.run({ name: 'increment', args: big, dryRun: false, timeoutMs: 0 }, silent),
  ).rejects.toMatchObject({
    code: 'INVALID_ARGUMENT',
  });
  await expect(t.run('missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  expect(await t.value('n')).toBeUndefined();
  await t.close();
});
