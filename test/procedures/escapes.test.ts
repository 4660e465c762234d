/**
 * Escape attempts through a real server (DESIGN §4.4): each attack must fail
 * (raise, or see nothing of the host), and afterwards the server must still
 * answer Gets and run scripts normally. State-leak probes run an attacker and
 * then a victim many times in a row. The engine-level suites in
 * test/engines/ try many more attacks directly against the hosts.
 */
import { connect, errorCode, type TestClient } from '../helpers/client';
import { type RunningServer, startServer } from '../helpers/server';

let server: RunningServer;
let client: TestClient;

beforeAll(async () => {
  server = await startServer({ args: ['--backend', 'memory'] });
  client = connect(server.address);
  await client.call('Put', { bucket: 'live', key: 'k', value: '{"alive":true}' });
  await client.call('PutScript', {
    name: 'healthy_js',
    engine: 'javascript',
    source: 'result = buckets.getBucket("live").get("k");',
  });
  await client.call('PutScript', {
    name: 'healthy_py',
    engine: 'python',
    source: 'result = buckets.getBucket("live").get("k")',
  });
});

afterAll(async () => {
  client?.close();
  await server?.stop();
  server?.cleanup();
});

type Outcome = { ok: true; result: unknown } | { ok: false; code: string | undefined; details: string };

async function attempt(engine: string, source: string): Promise<Outcome> {
  const name = `attack_${Math.random().toString(36).slice(2)}`;
  await client.call('PutScript', { name, engine, source });
  try {
    const res = await client.call<{ result: string }>('Run', { name, args: '[]', timeout_ms: 5000 });
    return { ok: true, result: JSON.parse(res.result) };
  } catch (err) {
    const e = err as Parameters<typeof errorCode>[0];
    return { ok: false, code: errorCode(e), details: e.details };
  }
}

async function stillServes(): Promise<void> {
  expect(JSON.parse((await client.call<{ value: string }>('Get', { bucket: 'live', key: 'k' })).value)).toEqual({
    alive: true,
  });
  for (const name of ['healthy_js', 'healthy_py']) {
    expect(
      JSON.parse((await client.call<{ result: string }>('Run', { name, args: '[]', timeout_ms: 30000 })).result),
    ).toEqual({ alive: true });
  }
}

/**
 * Refused by the sandbox, and for the reason given: a SCRIPT_ERROR whose
 * message names the refusal (an attack that dies of a typo is no evidence).
 */
const refused = (why: RegExp) => (o: Outcome) => !o.ok && o.code === 'SCRIPT_ERROR' && why.test(o.details);
const noCodeFromStrings = refused(/raised EvalError: Code generation from strings disallowed for this context/);
const importRefused = (name: string) =>
  refused(new RegExp(`raised ImportError: import of '${name.replace('.', '\\.')}' is not allowed in a script`));
const hostLeak = /\/work\/|node_modules|root:x:0|PATH=|HOME=|pid/;

const ATTACKS: readonly [string, 'javascript' | 'python', string, (o: Outcome) => boolean][] = [
  [
    'process is not a global',
    'javascript',
    'result = typeof process + typeof require + typeof module + typeof globalThis.process;',
    (o) => o.ok && o.result === 'undefinedundefinedundefinedundefined',
  ],
  [
    'Function constructor from a bridge object',
    'javascript',
    'result = buckets.getBucket.constructor.constructor("return process")().pid;',
    noCodeFromStrings,
  ],
  [
    'Function constructor from a caught error',
    'javascript',
    'try { null.x; } catch (e) { result = e.constructor.constructor("return process")().pid; }',
    noCodeFromStrings,
  ],
  ['eval', 'javascript', 'result = eval("1 + 1");', noCodeFromStrings],
  ['new Function', 'javascript', 'result = new Function("return 1")();', noCodeFromStrings],
  [
    'dynamic import of fs',
    'javascript',
    'let out = "none"; import("fs").then((fs) => { out = fs.readFileSync("/etc/passwd", "utf8"); }, (e) => { out = String(e && e.message); }); result = out;',
    (o) => !o.ok || !hostLeak.test(JSON.stringify(o.result)),
  ],
  [
    'Error.prepareStackTrace call sites',
    'javascript',
    'Error.prepareStackTrace = (e, s) => s.map((f) => String(f.getThis && f.getThis())); result = new Error().stack;',
    (o) => !o.ok || !hostLeak.test(JSON.stringify(o.result)),
  ],
  [
    'WebAssembly and SharedArrayBuffer are absent',
    'javascript',
    'result = [typeof WebAssembly, typeof SharedArrayBuffer, typeof Atomics];',
    (o) => o.ok && JSON.stringify(o.result) === '["undefined","undefined","undefined"]',
  ],
  [
    'a constructor chain through a Proxy over the bridge',
    'javascript',
    'const p = new Proxy(buckets.getBucket("live"), { get: (t, k) => t[k] }); let out; try { out = p.get.call.constructor("return process")(); } catch (e) { out = e.name; } result = out;',
    (o) => o.ok && o.result === 'EvalError',
  ],
  ['import js', 'python', 'import js\nresult = js.process.pid', importRefused('js')],
  ['import pyodide_js', 'python', 'import pyodide_js\nresult = str(pyodide_js)', importRefused('pyodide_js')],
  [
    'pyodide.code.run_js',
    'python',
    'from pyodide.code import run_js\nresult = run_js("process.pid")',
    importRefused('pyodide.code'),
  ],
  [
    'open a host file',
    'python',
    'result = open("/etc/passwd").read()',
    refused(/raised NameError: name 'open' is not defined/),
  ],
  ['the environment', 'python', 'import os\nresult = dict(os.environ)', importRefused('os')],
  [
    'a subprocess',
    'python',
    'import subprocess\nresult = subprocess.check_output(["id"]).decode()',
    importRefused('subprocess'),
  ],
  [
    'a socket',
    'python',
    'import socket\ns = socket.socket()\ns.connect(("127.0.0.1", 50051))\nresult = "connected"',
    importRefused('socket'),
  ],
  [
    'ctypes into Emscripten',
    'python',
    'import ctypes\nresult = ctypes.CDLL(None).emscripten_run_script_string(b"process.pid")',
    importRefused('ctypes'),
  ],
  [
    '__subclasses__ walk to os.system',
    'python',
    'w = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "catch_warnings"][0]\nresult = w()._module.__builtins__["__import__"]("os").system("id")',
    refused(/raised PermissionError: sandbox: os\.system is not allowed/),
  ],
  [
    'gc hunting for JsProxy objects',
    'python',
    'import gc\nresult = [type(o).__name__ for o in gc.get_objects() if "Js" in type(o).__name__][:5]',
    importRefused('gc'),
  ],
];

describe('escape attempts fail and the server keeps serving', () => {
  test.each(ATTACKS)('%s (%s)', async (_label, engine, source, safe) => {
    const outcome = await attempt(engine, source);
    expect({ outcome, safe: safe(outcome) }).toEqual({ outcome, safe: true });
    if (!outcome.ok) expect(outcome.details).not.toMatch(/\/work\/|node_modules|dist\//);
    await stillServes();
  });
});

const LEAKS: readonly [string, 'javascript' | 'python', string, string, unknown][] = [
  [
    'Object.prototype',
    'javascript',
    'Object.prototype.polluted = 1; result = 1;',
    'result = ({}).polluted === undefined;',
    true,
  ],
  [
    'Array.prototype.push',
    'javascript',
    'Array.prototype.push = function () { return 42; }; result = 1;',
    'const a = []; a.push(1); result = a.length;',
    1,
  ],
  [
    'JSON.parse',
    'javascript',
    'JSON.parse = () => "pwned"; result = 1;',
    'result = JSON.parse("{\\"a\\":1}");',
    { a: 1 },
  ],
  [
    'a global variable',
    'javascript',
    'globalThis.leak = "secret"; result = 1;',
    'result = typeof globalThis.leak;',
    'undefined',
  ],
  ['a builtin', 'python', 'import builtins\nbuiltins.len = lambda x: 42\nresult = 1', 'result = len([1, 2])', 2],
  [
    'a stdlib function',
    'python',
    'import json\njson.dumps = lambda *a, **k: "pwned"\nresult = 1',
    'import json\nresult = json.dumps({"a": 1})',
    '{"a": 1}',
  ],
  [
    'module state',
    'python',
    'import random\nrandom.seed(1)\nimport string\nstring.ascii_letters = "x"\nresult = 1',
    'import string\nresult = string.ascii_letters[:3]',
    'abc',
  ],
  ['a global name', 'python', 'global leak\nleak = "secret"\nresult = 1', 'result = "leak" in globals()', false],
];

describe('no state survives from one run to the next', () => {
  test.each(LEAKS)('%s (%s), attacker then victim 10 times', async (_label, engine, attacker, victim, expected) => {
    for (let i = 0; i < 10; i++) {
      await attempt(engine, attacker);
      const outcome = await attempt(engine, victim);
      expect(outcome).toEqual({ ok: true, result: expected });
    }
  });
});
