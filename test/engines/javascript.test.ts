/**
 * The JavaScript engine host as the server sees it (DESIGN §4, JavaScript
 * column): globals, failures with the user's line, limits, and hosts that
 * must be killed. Runs the real compiled host (npm run build first).
 */
import type { HostProcess } from '../../src/procedures/host-process';
import { JavaScriptEngine } from '../../engines/javascript/javascript-engine';
import { FakeBridge, LIMITS, failureOf, resultOf, runJs, settledWithin, startJavaScriptHost } from './javascript-host';

let host: HostProcess;

beforeAll(async () => {
  host = await startJavaScriptHost();
});

afterAll(() => {
  host.kill();
});

describe('script globals', () => {
  test('get returns the stored object, or null for a missing key', async () => {
    const bridge = new FakeBridge({ posts: { p1: { title: 'Hello', n: 1 } } });
    const result = await resultOf(
      host,
      'const b = buckets.getBucket("posts");\nresult = [b.get("p1"), b.get("nope")];',
      { bridge },
    );
    expect(result).toEqual([{ title: 'Hello', n: 1 }, null]);
    expect(bridge.calls).toEqual([
      { op: 'get', bucket: 'posts', key: 'p1' },
      { op: 'get', bucket: 'posts', key: 'nope' },
    ]);
  });

  test('getMany answers in key order with one bridge call', async () => {
    const bridge = new FakeBridge({ users: { a: { name: 'A' }, c: { name: 'C' } } });
    const result = await resultOf(host, 'result = buckets.getBucket("users").getMany(["a", "b", "c"]);', { bridge });
    expect(result).toEqual([{ name: 'A' }, null, { name: 'C' }]);
    expect(bridge.calls).toHaveLength(1);
  });

  test('put and delete send JSON text and reads see them', async () => {
    const bridge = new FakeBridge({ posts: { old: { x: 1 } } });
    const source =
      'const b = buckets.getBucket("posts");\nb.put("new", { title: "T", tags: ["a"], n: 1.5 });\nb.delete("old");\nresult = [b.get("new"), b.get("old")];';
    expect(await resultOf(host, source, { bridge })).toEqual([{ title: 'T', tags: ['a'], n: 1.5 }, null]);
    expect(bridge.writes).toEqual([
      { bucket: 'posts', key: 'new', value: '{"title":"T","tags":["a"],"n":1.5}' },
      { bucket: 'posts', key: 'old', value: null },
    ]);
  });

  test('put of anything but a plain object throws a TypeError in the script and writes nothing', async () => {
    for (const value of [
      '[1, 2]',
      '"text"',
      '42',
      'null',
      'new Date()',
      'new Map()',
      'Object.create(Array.prototype)',
    ]) {
      const bridge = new FakeBridge();
      const error = await failureOf(host, `buckets.getBucket("b").put("k", ${value});`, { bridge });
      expect(error).toMatchObject({ kind: 'error', type: 'TypeError', line: 1 });
      expect(bridge.writes).toEqual([]);
    }
    expect(
      await resultOf(
        host,
        'try { buckets.getBucket("b").put("k", [1]) } catch (e) { result = e instanceof TypeError }',
      ),
    ).toBe(true);
  });

  test('list honours prefix, limit and startAfter and returns [key, value] pairs', async () => {
    const bridge = new FakeBridge({ c: { a1: { v: 1 }, a2: { v: 2 }, a3: { v: 3 }, b1: { v: 4 } } });
    const source =
      'const b = buckets.getBucket("c");\nresult = [b.list({ prefix: "a", limit: 2 }), b.list({ prefix: "a", startAfter: "a2" }), b.list().length];';
    expect(await resultOf(host, source, { bridge })).toEqual([
      [
        ['a1', { v: 1 }],
        ['a2', { v: 2 }],
      ],
      [['a3', { v: 3 }]],
      4,
    ]);
    expect(bridge.calls[0]).toEqual({ op: 'list', bucket: 'c', prefix: 'a', limit: 2, startAfter: null });
  });

  test('args is the array parsed from the run message', async () => {
    expect(
      await resultOf(host, 'result = { args, isArray: Array.isArray(args) };', {
        args: '[1, "two", {"three": [3]}, null]',
      }),
    ).toEqual({
      args: [1, 'two', { three: [3] }, null],
      isArray: true,
    });
  });

  test('args that are not a JSON array fail the run', async () => {
    expect(await failureOf(host, 'result = 1', { args: '{"a": 1}' })).toMatchObject({ type: 'TypeError' });
  });

  test.each([
    ['a number', 'result = 42', '42'],
    ['a string', 'result = "hé"', '"hé"'],
    ['a boolean', 'result = false', 'false'],
    ['null', 'result = null', 'null'],
    ['an array', 'result = [1, [2], {}]', '[1,[2],{}]'],
    ['an object', 'result = { a: { b: 1 } }', '{"a":{"b":1}}'],
    ['nothing (undefined becomes null)', 'const x = 1;', 'null'],
    ['a value set by a promise job', 'Promise.resolve(7).then((v) => { result = v; });', '7'],
    ['the value before an early return', 'result = "early";\nif (true) return;\nresult = "late";', '"early"'],
  ])('result can be %s', async (_name, source, json) => {
    const done = await runJs(host, source);
    expect(done).toMatchObject({ ok: true, result: json });
  });

  test('console.log, info, warn and error are captured, formatted like Node for strings and numbers', async () => {
    const done = await runJs(
      host,
      'console.log("a", 1, true, null, undefined);\nconsole.info("%s is %d%%", "x", 42);\nconsole.warn({ a: [1] });\nconsole.error("%j", { b: 2 }, "tail");\nresult = 1;',
    );
    expect(done).toMatchObject({
      ok: true,
      logs: ['a 1 true null undefined', 'x is 42%', '{"a":[1]}', '{"b":2} tail'],
    });
  });

  test('logs come back with a failure too', async () => {
    const done = await runJs(host, 'console.log("before");\nthrow new Error("boom");');
    expect(done).toMatchObject({ ok: false, logs: ['before'] });
  });
});

describe('failures name the type, message and user line', () => {
  test('a syntax error at compile reports kind syntax and its line', async () => {
    expect(await host.compile('bad', 'const a = 1;\nconst b = 2;\nconst c = ;\n')).toMatchObject({
      ok: false,
      error: { kind: 'syntax', type: 'SyntaxError', line: 3 },
    });
  });

  test('a syntax error in a run that carries its source reports the same', async () => {
    expect(await failureOf(host, '\n\nlet x = {;')).toMatchObject({ kind: 'syntax', type: 'SyntaxError', line: 3 });
  });

  test('source cannot break out of its function wrapper', async () => {
    expect(await host.compile('escape', 'result = 1;\n}); globalThis.x = 1; (function () {')).toMatchObject({
      ok: false,
      error: { kind: 'syntax' },
    });
  });

  test('`let result` is a redeclaration, reported at compile', async () => {
    expect(await host.compile('redeclare', 'let result = 1;')).toMatchObject({
      ok: false,
      error: { kind: 'syntax', line: 1 },
    });
  });

  test('a thrown error reports its type, message and line, also from a nested function', async () => {
    const source = 'function inner() {\n  return null.field;\n}\nconst x = 1;\ninner();';
    expect(await failureOf(host, source)).toMatchObject({
      kind: 'error',
      type: 'TypeError',
      line: 2,
      message: expect.stringContaining('field'),
    });
  });

  test('a custom error class keeps its name', async () => {
    const source =
      'class NotFound extends Error {\n  constructor(m) { super(m); this.name = "NotFound"; }\n}\n\nthrow new NotFound("no post");';
    expect(await failureOf(host, source)).toEqual({ kind: 'error', type: 'NotFound', message: 'no post', line: 5 });
  });

  test('a thrown non-error still fails the run', async () => {
    expect(await failureOf(host, 'throw "plain";')).toMatchObject({ kind: 'error', type: 'Error', message: 'plain' });
  });

  test('a bridge error is an Error of the script realm, catchable, at the calling line', async () => {
    const uncaught = await failureOf(host, 'const b = buckets.getBucket("_system");\n\nb.get("x");');
    expect(uncaught).toEqual({ kind: 'error', type: 'Error', message: 'bucket _system is reserved', line: 3 });
    const caught =
      'try { buckets.getBucket("_system").get("x"); } catch (e) { result = [e instanceof Error, e.message]; }';
    expect(await resultOf(host, caught)).toEqual([true, 'bucket _system is reserved']);
  });

  test('a result that is not JSON (BigInt, cycle) fails with a TypeError', async () => {
    expect(await failureOf(host, 'result = 10n;')).toMatchObject({ kind: 'error', type: 'TypeError' });
    expect(await failureOf(host, 'const o = {}; o.o = o; result = o;')).toMatchObject({
      kind: 'error',
      type: 'TypeError',
    });
  });

  test('deep recursion is a RangeError of the script and the host survives', async () => {
    expect(await failureOf(host, 'function down(n) { return down(n + 1) + 1; }\ndown(0);')).toMatchObject({
      kind: 'error',
      type: 'RangeError',
      line: 1,
    });
    expect(await resultOf(host, 'result = "alive";')).toBe('alive');
  });
});

describe('compile once, run many', () => {
  test('a script compiled by one run is run again by key alone (the source is not sent again: a broken one would not compile)', async () => {
    const first = await host.run(
      { key: 'cached', name: 'c', source: 'result = args[0] * 2;', args: '[2]', limits: LIMITS },
      new FakeBridge().onCall,
    );
    const again = await host.run(
      { key: 'cached', name: 'c', source: 'this does not compile (((', args: '[21]', limits: LIMITS },
      new FakeBridge().onCall,
    );
    expect([first, again]).toMatchObject([
      { ok: true, result: '4' },
      { ok: true, result: '42' },
    ]);
  });
});

describe('a failing bridge channel', () => {
  test('a bridge that throws mid-call marks the engine broken: that run fails and no later run touches the channel', () => {
    const engine = new JavaScriptEngine(); // in process: the host loop is not needed to see this
    const compiled = engine.compile('t', 'try { buckets.getBucket("b").get("k"); } catch {}\nresult = 1;');
    if (!compiled.ok) throw new Error('did not compile');
    let calls = 0;
    const failing = {
      call: () => {
        calls++;
        throw new Error('pipe closed');
      },
    };
    expect(engine.run(compiled.compiled, '[]', failing, LIMITS)).toMatchObject({
      ok: false,
      error: { type: 'HostError' },
    });
    expect(engine.broken).toBe(true);
    expect(engine.run(compiled.compiled, '[]', failing, LIMITS)).toMatchObject({
      ok: false,
      error: { type: 'HostError' },
    });
    expect(calls).toBe(1);
  });
});

describe('limits', () => {
  const limits = { maxLogBytes: 100, maxResultBytes: 100 };

  test('a result over maxResultBytes fails with LimitExceeded', async () => {
    expect(await failureOf(host, 'result = "x".repeat(200);', { limits })).toMatchObject({
      kind: 'limit',
      type: 'LimitExceeded',
    });
    expect(await resultOf(host, 'result = "x".repeat(50);', { limits })).toBe('x'.repeat(50));
  });

  test('logs over maxLogBytes fail with LimitExceeded and keep the lines that fit', async () => {
    const done = await runJs(host, 'for (let i = 0; i < 100; i++) console.log("line " + i);\nresult = 1;', { limits });
    expect(done).toMatchObject({ ok: false, error: { kind: 'limit', type: 'LimitExceeded' } });
    expect(done.logs.length).toBeGreaterThan(5);
    expect(done.logs.join('\n').length).toBeLessThanOrEqual(100);
  });

  test('catching the log-limit error does not save the run', async () => {
    const source = 'for (let i = 0; i < 100; i++) { try { console.log("line " + i); } catch {} }\nresult = 1;';
    expect(await failureOf(host, source, { limits })).toMatchObject({ kind: 'limit' });
  });
});

describe('hosts that must be killed', () => {
  // Deadlines are the server's: it kills the process. These show the kill is prompt and the run rejects.
  test.each([
    ['an endless loop', 'for (;;) {}'],
    ['an endless microtask chain', 'const f = () => Promise.resolve().then(f);\nf();'],
    ['an endless loop that catches everything', 'for (;;) { try { buckets.getBucket(1); } catch {} }'],
  ])('%s hangs until kill(), which ends the process and rejects the run', async (_name, source) => {
    const own = await startJavaScriptHost();
    const running = runJs(own, source);
    expect(await settledWithin(running, 300)).toBe('pending');
    const killedAt = Date.now();
    own.kill();
    await expect(running).rejects.toThrow(/engine host exited/);
    expect((await own.exited).signal).toBe('SIGKILL');
    expect(Date.now() - killedAt).toBeLessThan(1000);
  });

  test('Atomics.wait cannot block: Atomics and SharedArrayBuffer are not there', async () => {
    expect(await failureOf(host, 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);')).toMatchObject({
      type: 'ReferenceError',
    });
  });

  test('a memory bomb kills its own host (heap cap), not the machine, and the run rejects', async () => {
    const own = await startJavaScriptHost({ maxOldSpaceMb: 48 });
    const running = runJs(own, 'const hoard = [];\nfor (let i = 0; ; i++) hoard.push(new Array(100000).fill(i));');
    await expect(running).rejects.toThrow(/engine host exited/);
    const exit = await own.exited;
    expect(exit.signal === 'SIGABRT' || exit.signal === 'SIGTRAP' || (exit.code !== null && exit.code !== 0)).toBe(
      true,
    );
    expect(exit.stderr).toMatch(/heap/i);
  });
});
