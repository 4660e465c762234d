/**
 * The JavaScript sandbox under attack (DESIGN §4.4): escape attempts must
 * fail and leave the host serving, and no run may leave state for the next.
 * Runs the real compiled host (npm run build first).
 */
import type { HostProcess } from '../../src/procedures/host-process';
import { FakeBridge, resultOf, runJs, startJavaScriptHost } from './javascript-host';

let host: HostProcess;

beforeAll(async () => {
  host = await startJavaScriptHost();
});

afterAll(() => {
  host.kill();
});

/** Whatever an attack produced (its result, or its failure), as text to search for leaks. */
async function attack(
  source: string,
  bridge = new FakeBridge({ b: { k: { v: 1 } } }),
): Promise<{ ok: boolean; text: string; bridge: FakeBridge }> {
  const done = await runJs(host, source, { bridge });
  return { ok: done.ok, text: done.ok ? done.result : JSON.stringify(done.error), bridge };
}

async function stillServes(): Promise<void> {
  expect(
    await resultOf(host, 'const b = buckets.getBucket("b");\nresult = [b.get("k"), args];', {
      args: '[1]',
      bridge: new FakeBridge({ b: { k: { v: 1 } } }),
    }),
  ).toEqual([{ v: 1 }, [1]]);
}

const HOST_SIGNS = /\/work|\/home|\/usr|node:internal|\.js:\d|PATH=|"pid"|readFileSync|child_process/;

describe('escape attempts fail and the host keeps serving', () => {
  test.each([
    ['the global constructor chain', 'result = globalThis.constructor.constructor("return process")();', /EvalError/],
    ['a bridge function constructor chain', 'result = buckets.getBucket.constructor("return process")();', /EvalError/],
    [
      'async and generator function constructors',
      'result = [(async () => 1).constructor("return process"), (function* () {}).constructor("return process")];',
      /EvalError/,
    ],
    [
      'eval and new Function',
      'try { eval("1"); } catch (e) { result = [e.name]; }\nresult.push(new Function("return process")());',
      /EvalError/,
    ],
    [
      'Error.prepareStackTrace call sites',
      'Error.prepareStackTrace = (e, sites) => sites.map((s) => s.getThis());\nresult = new Error("x").stack;',
      /TypeError/,
    ],
    ['WebAssembly', 'result = WebAssembly.compile;', /ReferenceError/],
    ['SharedArrayBuffer and Atomics', 'result = [new SharedArrayBuffer(8), Atomics];', /ReferenceError/],
    [
      'strict callers and arguments',
      'function f() { return f.caller || arguments.callee; }\nresult = [console.log.caller, f()];',
      /TypeError/,
    ],
    ['the __proto__ accessor', 'result = ({}).__proto__.constructor.constructor("return process")();', /disallowed/],
    [
      'a Symbol.toPrimitive key',
      'result = buckets.getBucket("b").get({ [Symbol.toPrimitive]: () => "k" });',
      /TypeError/,
    ],
    ['polluting Object.prototype', 'Object.prototype.polluted = 1;', /TypeError/],
  ])('%s', async (_name, source, expected) => {
    const { ok, text } = await attack(source);
    expect(ok).toBe(false);
    expect(text).toMatch(expected);
    expect(text).not.toMatch(HOST_SIGNS);
    await stillServes();
  });

  test('stack traces show script frames only, never host files', async () => {
    const source =
      'const o = {};\nError.captureStackTrace(o);\nresult = [o.stack, new Error("x").stack, (() => { try { null.x; } catch (e) { return e.stack; } })()];';
    const { ok, text } = await attack(source);
    expect(ok).toBe(true);
    const [captured, created, thrown] = JSON.parse(text) as string[];
    expect(captured).toBe('Error\n    at script:test:2:7');
    expect(created).toBe('Error: x\n    at script:test:3:20');
    expect(thrown).toMatch(
      /^TypeError: Cannot read properties of null.*\n {4}at script:test:3:\d+\n {4}at script:test:3:\d+$/,
    );
    expect(text).not.toMatch(HOST_SIGNS);
    await stillServes();
  });

  test('no host globals exist: process, require, module, Buffer, timers, fetch, binary buffers', async () => {
    const names = [
      'process',
      'require',
      'module',
      'exports',
      '__dirname',
      'Buffer',
      'setTimeout',
      'setImmediate',
      'queueMicrotask',
      'fetch',
      'global',
      'ArrayBuffer',
      'Uint8Array',
      'FinalizationRegistry',
    ];
    const { ok, text } = await attack(`result = [${names.map((n) => `typeof ${n}`).join(', ')}];`);
    expect(ok).toBe(true);
    expect(JSON.parse(text)).toEqual(names.map(() => 'undefined'));
    await stillServes();
  });

  test('top-level this is undefined and globalThis is a frozen object of this realm', async () => {
    const source =
      'result = [typeof this, (function () { return typeof this; })(), Object.isFrozen(globalThis), globalThis.constructor === Object, Object.getPrototypeOf(globalThis) === Object.prototype];';
    expect(await resultOf(host, source)).toEqual(['undefined', 'undefined', true, true, true]);
    await stillServes();
  });

  test('dynamic import() never yields a module or a host error', async () => {
    const source =
      'result = "pending";\nimport("node:fs").then((m) => { result = Object.keys(m); }, (e) => { result = [e instanceof Error, e.message]; });';
    const { ok, text } = await attack(source);
    expect(ok).toBe(true);
    // Either still pending at the end of the run or rejected with an error of the script's own realm.
    expect(['"pending"', '[true,"import() is not available in scripts"]']).toContain(text);
    await stillServes();
  });

  test('host errors never reach the script, even when the stack runs out inside a host callback', async () => {
    // At every depth near the edge, poke each way into the host; anything caught must be of this realm.
    const source = [
      'const foreign = [];',
      'const check = (e) => { if (!(e instanceof Error)) foreign.push(String(e)); };',
      'const b = buckets.getBucket("b");',
      'function down(n) {',
      '  try { return down(n + 1); } catch (e) {',
      '    check(e);',
      '    try { new Error("y").stack; } catch (e2) { check(e2); }',
      '    try { b.get("k"); } catch (e3) { check(e3); }',
      '    try { console.log("."); } catch (e4) { check(e4); }',
      '    try { JSON.parse(JSON.stringify({ a: [1] })); } catch (e5) { check(e5); }',
      '    try { import("x").catch(check); } catch (e6) { check(e6); }',
      '    return n;',
      '  }',
      '}',
      'const depth = down(0);',
      'Promise.resolve().then(() => { result = { deep: depth > 100, foreign }; });',
    ].join('\n');
    const { ok, text } = await attack(source);
    expect(ok).toBe(true);
    expect(JSON.parse(text)).toEqual({ deep: true, foreign: [] });
    await stillServes();
  });

  test('proxies handed to the bridge only ever see objects of their own realm', async () => {
    const source = [
      'const foreign = [];',
      'const watch = (...xs) => { for (const x of xs) if (x !== null && typeof x === "object" && !(x instanceof Object)) foreign.push(typeof x); };',
      'const handler = new Proxy({}, { get: (_t, trap) => (...a) => { watch(...a); return Reflect[trap](...a); } });',
      'const b = buckets.getBucket("b");',
      'b.put("p", new Proxy({ a: 1, nested: { b: [2] } }, handler));',
      'const got = b.getMany(new Proxy(["k", "p"], handler));',
      'result = { foreign, got };',
    ].join('\n');
    const { ok, text, bridge } = await attack(source);
    expect(ok).toBe(true);
    expect(JSON.parse(text)).toEqual({ foreign: [], got: [{ v: 1 }, { a: 1, nested: { b: [2] } }] });
    expect(bridge.writes).toEqual([{ bucket: 'b', key: 'p', value: '{"a":1,"nested":{"b":[2]}}' }]);
    await stillServes();
  });

  test('inspect symbols and getters on results and logs are never run by the host', async () => {
    const source = [
      'const spy = () => { buckets.getBucket("spy").put("called", {}); return "hijacked"; };',
      'const bait = { a: 1, [Symbol.for("nodejs.util.inspect.custom")]: spy, [Symbol.toPrimitive]: spy };',
      'console.log(bait);',
      'result = bait;',
    ].join('\n');
    const { ok, text, bridge } = await attack(source);
    expect(ok).toBe(true);
    expect(text).toBe('{"a":1}');
    expect(bridge.writes).toEqual([]);
    await stillServes();
  });

  test('values from the bridge and args are objects of the script realm', async () => {
    const source =
      'const v = buckets.getBucket("b").get("k");\nresult = [Object.getPrototypeOf(v) === Object.prototype, Object.getPrototypeOf(args) === Array.prototype, v.constructor === Object];';
    expect(await resultOf(host, source, { args: '[]', bridge: new FakeBridge({ b: { k: { v: 1 } } }) })).toEqual([
      true,
      true,
      true,
    ]);
  });
});

describe('no state survives from one run to the next', () => {
  const attackers = [
    'Object.prototype.leak = "object";',
    'Object.defineProperty(Object.prototype, "toJSON", { get() { return () => "hijacked"; } });',
    'Array.prototype.push = function () { return -1; };',
    'JSON.parse = () => ({ hijacked: true });',
    'Math.random = () => 4;',
    'globalThis.leak = "global";',
    'Reflect.set(globalThis, "leak", "reflect");',
    'var counter = 1; let secret = "module";',
    '/(secret-\\d+)/.exec("secret-42");',
    'buckets.getBucket.leak = 1;',
    'console.log.leak = 1;',
    'Error.prototype.toString = () => "hijacked";',
    'Promise.resolve().then(() => buckets.getBucket("spy").put("late", {}));',
    'result = { toJSON() { Promise.resolve().then(() => buckets.getBucket("spy").put("later", {})); return 1; } };',
    'new Promise(() => {}); (async () => { await null; await null; buckets.getBucket("spy").put("async", {}); })();',
  ];
  const victim = [
    'const list = []; list.push(1);',
    'result = {',
    '  object: ({}).leak, json: JSON.parse("{\\"a\\":1}"), stringify: JSON.stringify({ a: 1 }), push: list.length,',
    '  random: Math.random() < 1, global: typeof leak, viaGlobal: globalThis.leak, counter: typeof counter, secret: typeof secret,',
    '  regexp: [RegExp.$1, RegExp.lastMatch], bucketFn: buckets.getBucket.leak, consoleFn: console.log.leak, error: String(new Error("e")),',
    '};',
  ].join('\n');
  const clean = {
    json: { a: 1 },
    stringify: '{"a":1}',
    push: 1,
    random: true,
    global: 'undefined',
    counter: 'undefined',
    secret: 'undefined',
    regexp: [null, null],
    error: 'Error: e',
  };

  test('twenty rounds of every attacker followed by a victim find nothing left over', async () => {
    for (let round = 0; round < 20; round++) {
      for (const source of attackers) {
        const bridge = new FakeBridge();
        await runJs(host, source, { bridge, key: `attacker-${source}` });
        const late = bridge.writes.filter((w) => w.bucket === 'spy').length;
        // Promise jobs run inside their own run: their writes belong to it.
        if (source.includes('spy')) expect(late).toBe(1);
      }
      const bridge = new FakeBridge();
      expect(await resultOf(host, victim, { bridge, key: 'victim' })).toEqual(clean);
      expect(bridge.writes).toEqual([]);
    }
  });
});
