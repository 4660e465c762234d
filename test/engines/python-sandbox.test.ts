/**
 * The Python sandbox: escape attempts (each must fail AND leave the host
 * serving normal runs) and state-leak probes (an attacker run, then a victim
 * run that must see pristine state, 20 times over). One host for the file.
 */
import type { HostProcess } from '../../src/procedures/host-process';
import { FakeBridge, resultOf, runPython, startPythonHost, WALK } from './python-harness';

let host: HostProcess;
beforeAll(async () => {
  process.env.LUCIEN_TEST_SECRET = 'hunter2-secret';
  host = await startPythonHost();
});
afterAll(() => host?.kill());

async function stillServes(): Promise<void> {
  expect(await resultOf(host, 'result = sum(args)', { args: '[40, 2]' })).toBe(42);
}

/** [behaviour, script]: the script must fail with one of `types`. */
const FAILING: [string, string, string[]][] = [
  ['import js fails', 'import js', ['ImportError']],
  ['import pyodide_js fails', 'import pyodide_js', ['ImportError']],
  ['from pyodide.code import run_js fails', 'from pyodide.code import run_js\nrun_js("1")', ['ImportError']],
  ['from pyodide.ffi import to_js fails', 'from pyodide.ffi import to_js', ['ImportError']],
  ['import ctypes fails', 'import ctypes', ['ImportError']],
  [
    'ctypes emscripten_run_script_string through the real __import__ fails',
    `${WALK}ctypes = real_builtins['__import__']('ctypes')\nctypes.CDLL(None).emscripten_run_script_string(b"process.exit(3)")`,
    ['ImportError'],
  ],
  [
    '__subclasses__ walk to sys.modules finds no js or pyodide_js, and importing them fails',
    `${WALK}assert not [k for k in real_sys.modules if k.split('.')[0] in ('js', 'pyodide_js', 'pyodide', '_pyodide', '_pyodide_core')], 'found'\nreal_builtins['__import__']('js')`,
    ['ImportError'],
  ],
  [
    '__subclasses__ walk to the real __import__ of pyodide_js fails',
    `${WALK}real_builtins['__import__']('pyodide_js')`,
    ['ImportError'],
  ],
  [
    'gc.get_objects() hunting for JsProxy is refused',
    `${WALK}gc = real_sys.modules['gc']\nresult = [o for o in gc.get_objects() if 'JsProxy' in type(o).__name__]`,
    ['PermissionError'],
  ],
  ['open("/etc/passwd") is not a builtin', 'open("/etc/passwd").read()', ['NameError']],
  [
    'io.open("/etc/passwd") through the walk is refused',
    `${WALK}real_sys.modules['io'].open('/etc/passwd').read()`,
    ['PermissionError'],
  ],
  [
    'reading the host files (node_modules, dist) is refused',
    `${WALK}real_sys.modules['io'].open('/work/main/package.json').read()`,
    ['PermissionError'],
  ],
  ['os.listdir("/") is refused', `${WALK}result = real_sys.modules['os'].listdir('/')`, ['PermissionError']],
  ['os.system is refused', `${WALK}real_sys.modules['os'].system('id')`, ['PermissionError']],
  [
    'subprocess.Popen is refused',
    `${WALK}real_sys.modules['subprocess'].Popen(['id'])`,
    ['PermissionError', 'OSError'],
  ],
  [
    'a socket is refused',
    `${WALK}s = real_sys.modules['socket'].socket()\ns.connect(('1.1.1.1', 80))`,
    ['PermissionError'],
  ],
  [
    'sys._getframe to reach the runner is refused',
    `${WALK}result = str(real_sys._getframe(0).f_back.f_locals)`,
    ['PermissionError'],
  ],
  [
    'frames through a traceback are refused',
    'try:\n    1/0\nexcept Exception as e:\n    result = str(e.__traceback__.tb_frame.f_back.f_globals)',
    ['PermissionError'],
  ],
  ['sys.addaudithook / settrace are refused', `${WALK}real_sys.settrace(lambda *a: None)`, ['PermissionError']],
  [
    'swapping the code of a shared function is refused',
    'import json\njson.dumps.__code__ = (lambda *a, **k: "pwned").__code__',
    ['PermissionError'],
  ],
  [
    'changing a stdlib class is refused',
    'import json\njson.JSONDecoder.decode = lambda self, s: "pwned"',
    ['TypeError'],
  ],
  [
    'mounting the host file system (NODEFS) has no way in',
    `${WALK}real_builtins['__import__']('pyodide_js').FS.mount`,
    ['ImportError'],
  ],
  [
    'JsProxy classes cannot be instantiated to get at JavaScript',
    `${WALK}cls = [c for c in object.__subclasses__() if c.__name__ == 'JsProxy'] or [t for t in real_sys.modules.values() if 0]\nfor c in object.__subclasses__():\n    if 'JsProxy' in c.__name__:\n        c()`,
    ['TypeError'],
  ],
];

describe('Python sandbox escapes', () => {
  test.each(FAILING)('%s', async (_name, script, types) => {
    const done = await runPython(host, script);
    expect(done.ok).toBe(false);
    if (!done.ok) expect(types).toContain(done.error.type);
    await stillServes();
  });

  test('the bucket API has no closures and no JavaScript object in reach; the bridge sits in a frame no script can read', async () => {
    const bridge = new FakeBridge({ p: { k: { v: 1 } } });
    const script = `
get = type(buckets.getBucket('p')).get
space = get.__globals__
send = space['_send']
pump = send.__self__
out = [get.__closure__, type(buckets).getBucket.__closure__, sorted(k for k, v in space.items() if type(type(v)).__name__ == '_JsProxyMetaClass' or 'Js' in type(v).__name__)]
try:
    pump.gi_frame
    out.append('frame')
except PermissionError as e:
    out.append(str(e))
try:
    pump.close()
except RuntimeError as e:
    out.append(str(e))
out.append(pump.throw(ValueError('x')))
out.append(send('{"t":"done","id":1,"ok":true}'))
out.append(send(42))
out.append(buckets.getBucket('p').get('k'))
result = out
`;
    expect(await resultOf(host, script, { bridge })).toEqual([
      null,
      null,
      [],
      'sandbox: object.__getattr__ is not allowed',
      'generator ignored GeneratorExit',
      'ebridge: not a call',
      'emalformed bridge call: bucket must be a string',
      'ebridge: expected JSON text',
      { v: 1 },
    ]);
    await stillServes();
  });

  test('os.environ holds nothing of the host environment (only Emscripten defaults)', async () => {
    const env = (await resultOf(host, `${WALK}result = dict(real_sys.modules['os'].environ)`)) as Record<
      string,
      string
    >;
    expect(JSON.stringify(env)).not.toContain('hunter2-secret');
    expect(env.PATH).not.toBe(process.env.PATH);
    expect(env.USER).toBe('web_user');
    await stillServes();
  });

  test('no module dict anywhere holds a JavaScript object', async () => {
    const script = `${WALK}
found = []
for name, m in list(real_sys.modules.items()):
    for k, v in list(getattr(m, '__dict__', {}).items()):
        if not isinstance(v, type) and type(type(v)).__name__ == '_JsProxyMetaClass':
            found.append(name + '.' + k)
result = found`;
    expect(await resultOf(host, script)).toEqual([]);
  });
});

describe('Python finalizers', () => {
  test('a finalizer that runs when the run is cleaned up is still audited', async () => {
    const bridge = new FakeBridge();
    const script = `${WALK}
b = buckets['leak']
class X:
    def __del__(self, s=real_sys, b=b):
        try:
            b.put('k', {'ls': s.modules['os'].listdir('/')})
        except BaseException as e:
            b.put('k', {'err': type(e).__name__})
x = X()
`;
    await runPython(host, script, { bridge });
    expect(bridge.writes.map((w) => w.value)).toEqual(['{"err":"PermissionError"}']);
    await stillServes();
  });

  test('a finalizer that runs when a restore lets go of it is audited too', async () => {
    const script = `${WALK}
import string
class X:
    def __del__(self, s=real_sys):
        s.modules['string'].found = s.modules['os'].listdir('/')
string.holder = X()
`;
    await runPython(host, script);
    expect(await resultOf(host, 'import string\nresult = hasattr(string, "found")')).toBe(false);
    await stillServes();
  });
});

describe('Python runs leave no state behind', () => {
  const PROBES: [string, string, string, unknown][] = [
    [
      'monkeypatched builtins',
      `${WALK}real_builtins['len'] = lambda x: 42\nreal_builtins['evil'] = 1`,
      'import json\nresult = [len([1, 2, 3]), json.dumps([1, 2]), "evil" in dir(__builtins__)]',
      [3, '[1, 2]', false],
    ],
    [
      'json.dumps replaced',
      'import json\njson.dumps = lambda *a, **k: "pwned"',
      'import json\nresult = json.dumps({"a": 1})',
      '{"a": 1}',
    ],
    [
      'module state changed',
      'import string, json\nstring.ascii_letters = "x"\njson.encoder.ESCAPE_DCT["a"] = "X"\njson._default_encoder.item_separator = ";"',
      'import string, json\nresult = [len(string.ascii_letters), json.encoder.ESCAPE_DCT.get("a"), json.dumps([1, 2])]',
      [52, null, '[1, 2]'],
    ],
    [
      'sys.modules additions',
      `${WALK}import types\nreal_sys.modules['evil'] = types.SimpleNamespace(x=1)\nreal_sys.modules['json'].loads = None`,
      `${WALK}import json\nresult = ['evil' in real_sys.modules, json.loads('[1]')]`,
      [false, [1]],
    ],
    [
      'script globals and result',
      'secret = 1\nresult = "old"',
      'result = [k for k in ("secret",) if k in globals()]',
      [],
    ],
    [
      'recursion limit',
      `${WALK}real_sys.setrecursionlimit(50)`,
      `${WALK}result = real_sys.getrecursionlimit() > 50`,
      true,
    ],
    [
      "a module the next run imports (a big dict, through a function's globals)",
      'import html\nhtml.unescape.__globals__["_html5"]["amp;"] = "X"\nhtml.unescape.__globals__["evil"] = 1',
      'import html\nresult = [html.unescape("&amp;"), hasattr(html, "evil")]',
      ['&', false],
    ],
    [
      'a module-level list changed in place, same length',
      'import keyword\nkeyword.kwlist[0] = "X"\nkeyword.__all__.append("y")',
      'import keyword\nresult = [keyword.kwlist[0], keyword.__all__[-1]]',
      ['False', 'softkwlist'],
    ],
    [
      'a module-level set changed, same size',
      'import copy\ncopy._atomic_types.discard(int)\ncopy._atomic_types.add(list)',
      'import copy\nresult = [int in copy._atomic_types, list in copy._atomic_types]',
      [true, false],
    ],
    [
      'an instance attribute of a module-level object',
      'import json\njson._default_encoder.item_separator = ";"\njson._default_encoder.evil = 1',
      'import json\nresult = [json.dumps([1, 2]), hasattr(json._default_encoder, "evil")]',
      ['[1, 2]', false],
    ],
    [
      "a module-level object's __dict__ swapped whole",
      'import json\njson._default_encoder.__dict__ = dict(json._default_encoder.__dict__, item_separator=";")',
      'import json\nresult = json.dumps([1, 2])',
      '[1, 2]',
    ],
    [
      'the random generator seeded',
      'import random\nrandom.seed(42)',
      'import random\nresult = random.random() == random.Random(42).random()',
      false,
    ],
    [
      'state a finalizer changes while the run is cleaned up',
      'import string\nclass X:\n    def __del__(self, s=string):\n        s.ascii_letters = "x"\nstring.holder = X()\nkeep = X()',
      'import string\nresult = [len(string.ascii_letters), hasattr(string, "holder")]',
      [52, false],
    ],
  ];

  test.each(PROBES)('%s does not leak into the next run (20 rounds)', async (_name, attack, victim, expected) => {
    for (let i = 0; i < 20; i++) {
      await runPython(host, attack);
      expect(await resultOf(host, victim)).toEqual(expected);
    }
  });
});
