/**
 * The corpus of the hermetic-runs test (hermetic.test.ts): probe scripts that
 * fingerprint what a run can observe of its engine, and scripts that try to
 * change it for later runs. Mutators are written wide (many stdlib modules,
 * C-level registries, caches holding mutable objects, the sandbox's own API,
 * realm-wide JavaScript state); whether a mutator's run succeeds does not
 * matter, only that no probe afterwards answers differently than on a fresh
 * host. Data only; never runs anything itself.
 */

/** Python that finds the real `sys` and builtins by walking object.__subclasses__() (what an attacker does first). */
export const WALK = `
def _walk():
    seen, todo = set(), [object]
    while todo:
        c = todo.pop()
        if id(c) in seen: continue
        seen.add(id(c))
        try: todo.extend(type.__subclasses__(c))
        except TypeError: pass
        for v in list(c.__dict__.values()):
            g = getattr(v, '__globals__', None)
            if isinstance(g, dict) and 'sys' in g and hasattr(g['sys'], 'modules'):
                return g['sys'], g['__builtins__'] if isinstance(g['__builtins__'], dict) else g['__builtins__'].__dict__
    raise RuntimeError('walk found nothing')
real_sys, real_builtins = _walk()
`;

/** Fingerprints every loaded module's state (module dicts, classes, instances, containers): module -> digest. */
const PY_STATE_PROBE = `${WALK}
import hashlib
SIMPLE = (int, float, str, bytes, bool, type(None), complex)
def simple(v):
    return repr(v)[:200] if type(v) in SIMPLE else type(v).__name__
def describe(v, depth):
    t = type(v)
    if t in SIMPLE:
        return repr(v)[:200]
    if t in (list, tuple):
        return t.__name__ + '%d[' % len(v) + ','.join(describe(x, depth - 1) if depth else simple(x) for x in v[:50]) + ']'
    if t in (set, frozenset):
        return t.__name__ + '%d' % len(v)
    if t is dict:
        return 'dict%d{' % len(v) + ','.join(repr(k)[:80] + ':' + (describe(x, depth - 1) if depth else simple(x)) for k, x in list(v.items())[:200]) + '}'
    if isinstance(v, type):
        return 'class %s %d %x' % (v.__qualname__, len(v.__dict__), id(v)) + (' ' + describe(dict(v.__dict__), depth - 1) if depth else '')
    if callable(v):
        return '%s@%x' % (t.__name__, id(v)) + ('/' + describe(v.__dict__, 0) if getattr(v, '__dict__', None) else '')
    try:
        d = object.__getattribute__(v, '__dict__')
    except Exception:
        d = None
    return t.__name__ + '@%x' % id(v) + ('/' + describe(d, depth - 1) if type(d) is dict and depth else '')
# Deeper for what scripts import and the registries they reach; one level for the rest.
DEEP = {'abc', 'array', 'base64', 'bisect', 'calendar', 'collections', 'copy', 'dataclasses', 'datetime', 'decimal',
        'difflib', 'enum', 'fractions', 'functools', 'hashlib', 'heapq', 'html', 'json', 'keyword', 'numbers',
        'operator', 'pprint', 're', 'statistics', 'string', 'struct', 'textwrap', 'typing', 'warnings', 'codecs',
        'copyreg', 'sys', 'builtins', '_collections_abc', 'encodings', 'types', '_decimal', '_pydecimal'}
out = {}
for name in sorted(real_sys.modules):
    m = real_sys.modules[name]
    if name in ('random', '__main__'):
        continue
    text = describe(dict(getattr(m, '__dict__', {})), 2 if name.partition('.')[0] in DEEP else 1)
    out[name] = hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:16]
out['#modules'] = len(real_sys.modules)
out['#builtins'] = describe(real_builtins, 1)[:4000]
result = out
`;

/** Behaviour a victim relies on, module by module. */
const PY_BEHAVIOUR_PROBE = `${WALK}
import decimal, collections.abc, numbers, re, enum, pprint, json, copy, calendar, string, typing, html, base64, textwrap, fractions, datetime, statistics, keyword, functools, struct, operator, difflib, heapq, bisect
warnings = real_sys.modules['warnings']
codecs = real_sys.modules['codecs']
copyreg = real_sys.modules['copyreg']
gc = real_sys.modules['gc']
out = []
def check(label, f):
    try:
        out.append([label, repr(f())[:300]])
    except BaseException as e:
        out.append([label, 'raised ' + type(e).__name__ + ': ' + str(e)[:200]])
check('decimal', lambda: [str(decimal.Decimal(1) / decimal.Decimal(7)), decimal.getcontext().prec, str(decimal.getcontext().rounding), sorted(str(k) for k, v in decimal.getcontext().traps.items() if v), decimal.DefaultContext.prec, str(decimal.Decimal('1.25').quantize(decimal.Decimal('0.1')))])
check('abc', lambda: [isinstance(1, collections.abc.Mapping), issubclass(int, collections.abc.Sequence), isinstance(1.5, numbers.Integral), isinstance([], collections.abc.Hashable), issubclass(str, collections.abc.MutableSequence)])
check('codecs', lambda: [codecs.lookup('utf-8').name, 'x'.encode('utf-8'), b'x'.decode('latin-1')])
check('codec lookup of an unknown name', lambda: codecs.lookup('lucien-evil'))
check('enum', lambda: [list(re.RegexFlag.__members__)[:12], re.RegexFlag(2).name, [m.name for m in calendar.Month][:3], len(calendar.Day.__members__)])
check('pprint', lambda: [pprint.pformat({'a': [1, 2], 'b': {'c': (3,)}}), pprint.pformat(list(range(30)), width=20)[:80]])
check('json', lambda: [json.dumps({'a': [1, 2.5, None, 'é']}), json.loads('{"a": [1, 2]}'), json.dumps([1], indent=1)])
check('copy', lambda: [copy.deepcopy([1, {'a': 2}]), copy.copy({1: 2})])
check('calendar', lambda: [calendar.firstweekday(), calendar.month(2024, 2)[:60], calendar.isleap(2024)])
check('string', lambda: [string.ascii_letters, string.Template('$a').substitute(a=1), string.capwords('a b'), string.Formatter().format('{0}', 5)])
check('typing', lambda: [repr(typing.List[int]), repr(typing.Optional[str]), repr(typing.Dict[str, int]), typing.get_args(typing.Union[int, str])])
check('html', lambda: [html.unescape('&amp;&lt;&eacute;'), html.escape('<a>')])
check('base64', lambda: [base64.b32encode(b'hello'), base64.b64encode(b'hi'), base64.b85encode(b'hi')])
check('textwrap', lambda: [textwrap.wrap('aa bb cc dd', 5), textwrap.dedent('  a')])
check('fractions', lambda: [str(fractions.Fraction('1/3') + fractions.Fraction(1, 6)), str(fractions.Fraction('0.5'))])
check('datetime', lambda: [datetime.datetime(2024, 1, 2, 3, 4, 5).isoformat(), str(datetime.timezone.utc), datetime.date(2024, 1, 1).strftime('%A %B')])
check('statistics', lambda: [statistics.mean([1, 2, 3, 4]), statistics.median([3, 1, 2])])
check('keyword', lambda: [keyword.kwlist[:5], keyword.iskeyword('if'), len(keyword.kwlist)])
check('re', lambda: [re.sub('a+', 'b', 'caaat'), re.findall(r'\\d', 'a1b2'), re.compile('x').flags])
check('struct', lambda: [struct.pack('<i', 1), struct.calcsize('<iq')])
check('operator', lambda: [operator.itemgetter(1)([1, 2]), operator.add(1, 2)])
check('difflib', lambda: list(difflib.ndiff(['a'], ['b'])))
check('heapq', lambda: heapq.nsmallest(2, [3, 1, 2]))
check('warnings', lambda: [len(warnings.filters), warnings.filters[:3], warnings.defaultaction])
check('a warning', lambda: warnings.warn_explicit('w', UserWarning, 'f', 1))
check('copyreg', lambda: [len(copyreg.dispatch_table), sorted(k.__name__ for k in copyreg.dispatch_table)])
check('sys', lambda: [real_sys.getrecursionlimit(), real_sys.get_int_max_str_digits(), real_sys.dont_write_bytecode, len(real_sys.meta_path), len(real_sys.path_hooks), real_sys.displayhook.__name__, real_sys.excepthook.__name__, real_sys.float_repr_style, len(real_sys.path)])
check('gc', lambda: gc.isenabled())
def fileno():
    with real_sys.modules['io'].open(keyword.__file__.rpartition('/')[0], 'rb') as f:
        return f.fileno()
check('file descriptors', fileno)
check('builtins', lambda: [len([1, 2]), str(3), sorted([2, 1]), int('7'), repr(1.5), print.__name__, __import__.__name__])
check('functools', lambda: [functools.reduce(operator.add, [1, 2, 3]), functools.partial(int, base=2)('11')])
check('bucket API', lambda: [repr(buckets.getBucket('live')), buckets.getBucket('live').get('k'), sorted(type(buckets.getBucket('x')).__dict__)])
check('LucienError', lambda: [LucienError.__name__, LucienError.__mro__[1].__name__, sorted(LucienError.__dict__)])
check('args', lambda: args)
check('classes', lambda: len(object.__subclasses__()))
result = out
`;

export const PY_PROBES: readonly [string, string][] = [
  ['python state fingerprint', PY_STATE_PROBE],
  ['python behaviour', PY_BEHAVIOUR_PROBE],
];

/** Python scripts that try to change what later runs of other scripts observe. */
export const PY_MUTATORS: readonly [string, string][] = [
  [
    'decimal context precision',
    'import decimal\ndecimal.getcontext().prec = 3\ndecimal.getcontext().rounding = decimal.ROUND_DOWN',
  ],
  [
    'decimal default context',
    'import decimal\ndecimal.DefaultContext.prec = 5\ndecimal.setcontext(decimal.Context(prec=2, traps=[]))',
  ],
  ['decimal traps', 'import decimal\ndecimal.getcontext().traps[decimal.Inexact] = True'],
  [
    'ABC registry',
    'import collections.abc\ncollections.abc.Mapping.register(int)\ncollections.abc.MutableSequence.register(str)',
  ],
  ['numbers ABC registry', 'import numbers\nnumbers.Integral.register(float)'],
  [
    'ABC negative cache',
    'import collections.abc\nisinstance([], collections.abc.Hashable)\ncollections.abc.Hashable.register(list)',
  ],
  [
    'codec search function',
    `${WALK}codecs = real_sys.modules['codecs']\ndef search(name):\n    return codecs.lookup('rot13') if name == 'lucien_evil' else None\ncodecs.register(search)`,
  ],
  [
    'codec cache',
    `${WALK}codecs = real_sys.modules['codecs']\ninfo = codecs.lookup('utf-8')\ninfo.name = 'pwned'\ninfo.encode = lambda *a: (b'pwned', 0)`,
  ],
  [
    'enum member map',
    'import re\nre.RegexFlag._member_map_["EVIL"] = re.RegexFlag.I\nre.RegexFlag._value2member_map_[2] = re.RegexFlag.M',
  ],
  ['enum class members of calendar', 'import calendar\ncalendar.Month._member_names_.append("SMARCH")'],
  [
    'pprint dispatch table',
    'import pprint\ndef spy(self, obj, stream, *a):\n    stream.write("spied")\npprint.PrettyPrinter._dispatch[dict.__repr__] = spy',
  ],
  ['json module function', 'import json\njson.dumps = lambda *a, **k: "pwned"\njson.decoder.scanstring = None'],
  ['json encoder table', 'import json\njson.encoder.ESCAPE_DCT["a"] = "X"\njson._default_encoder.item_separator = ";"'],
  ['copy dispatch', 'import copy\ncopy._deepcopy_dispatch[list] = lambda x, memo: "pwned"'],
  ['calendar first weekday (module-level instance)', 'import calendar\ncalendar.setfirstweekday(6)'],
  ['string module constants', 'import string\nstring.ascii_letters = "x"'],
  [
    'typing cache holding a mutable alias',
    'import typing\na = typing.List[int]\na._name = "Pwned"\na.__origin__ = dict',
  ],
  ['html entity table', 'import html\nhtml.unescape.__globals__["_html5"]["amp;"] = "X"'],
  [
    'base64 lazily built table',
    'import base64\nbase64.b32encode(b"x")\nfor k in list(base64.__dict__):\n    if "b32tab" in k and isinstance(base64.__dict__[k], list):\n        base64.__dict__[k][0] = b"ZZ"',
  ],
  ['textwrap module regex', 'import textwrap, re\ntextwrap._whitespace_only_re = re.compile("a")'],
  [
    'fractions regex',
    'import fractions, re\nfor k, v in list(fractions.__dict__.items()):\n    if isinstance(v, re.Pattern):\n        fractions.__dict__[k] = re.compile("(?P<num>9)")',
  ],
  ['keyword list', 'import keyword\nkeyword.kwlist.insert(0, "evil")'],
  [
    'warnings filters',
    `${WALK}w = real_sys.modules['warnings']\nw.simplefilter('error')\nw.filters.insert(0, ('ignore', None, Warning, None, 0))\nw.defaultaction = 'error'`,
  ],
  [
    'warnings showwarning hook',
    `${WALK}w = real_sys.modules['warnings']\nw.showwarning = lambda *a, **k: None\nw._showwarnmsg_impl = None`,
  ],
  [
    'copyreg dispatch table',
    `${WALK}copyreg = real_sys.modules['copyreg']\ncopyreg.pickle(complex, lambda c: (complex, (0, 0)))`,
  ],
  [
    'sys settings',
    `${WALK}real_sys.dont_write_bytecode = True\nreal_sys.displayhook = print\nreal_sys.excepthook = print\nreal_sys.meta_path.append(object())\nreal_sys.path.append('/tmp')`,
  ],
  ['sys limits', `${WALK}real_sys.setrecursionlimit(50)`],
  [
    'sys.modules',
    `${WALK}import types\nreal_sys.modules['evil'] = types.SimpleNamespace()\nreal_sys.modules.pop('json')`,
  ],
  ['gc disabled', `${WALK}real_sys.modules['gc'].disable()`],
  [
    'builtins monkeypatched',
    `${WALK}real_builtins['len'] = lambda x: 42\nreal_builtins['evil'] = 1\nreal_builtins['__build_class__'] = None`,
  ],
  [
    'functools.lru_cache of a stdlib function',
    'import re\nre.compile("lucien")\nimport functools\nfor v in vars(re).values():\n    if hasattr(v, "cache_clear"):\n        v.cache_clear()',
  ],
  [
    'statistics and struct caches',
    'import struct\nstruct._clearcache()\nstruct.Struct("<i").__init__ if False else None',
  ],
  ['datetime module constants', 'import datetime\ndatetime.MAXYEAR = 1\ndatetime.timezone.utc.__class__'],
  [
    'stashing a class where subclasses see it',
    'import json\nclass Stash(dict):\n    pass\njson.decoder.__dict__["_stash"] = Stash\njson.decoder.__dict__["_keep"] = [Stash()]',
  ],
  [
    'a function attribute on a shared function',
    'import json\njson.dumps.stash = {"secret": 1}\njson.loads.__dict__["x"] = 2',
  ],
  [
    'the bucket API: closure cells',
    'b = buckets.getBucket("live")\nfor c in (type(b).get.__closure__ or ()):\n    c.cell_contents = lambda *a: {"pwned": True}',
  ],
  [
    'the bucket API: its globals',
    'g = type(buckets.getBucket("live")).get.__globals__\nfor k in list(g):\n    if callable(g[k]) and not isinstance(g[k], type):\n        g[k] = lambda *a, **kw: {"pwned": True}',
  ],
  [
    'the bucket API: the bridge generator',
    'g = type(buckets.getBucket("live")).get.__globals__\npump = g["_send"].__self__\ntry:\n    pump.close()\nexcept BaseException:\n    pass\npump.__name__ = "pwned"\npump.__qualname__ = "pwned"',
  ],
  [
    'the bucket API: print and the run state',
    'g = print.__globals__\ng["_run"][2] = 10 ** 12\ng["_run"] = [[], 0, 0, False]\ng["LucienError"] = KeyError',
  ],
  ['LucienError class', 'LucienError.evil = 1\ntype.__setattr__(LucienError, "__init__", None)'],
  [
    'script import allowlist',
    'g = __import__.__globals__\ng["_ALLOWED"] = frozenset(["os", "js", "gc"])\ng["_real_import"] = None',
  ],
  [
    'a finalizer left behind',
    'import string\nclass X:\n    def __del__(self, s=string):\n        s.ascii_letters = "pwned"\nstring.holder = X()\nimport json\njson.decoder.holder = [X(), X()]',
  ],
  [
    'a reference cycle with a finalizer',
    'import copy\nclass C:\n    def __del__(self, c=copy):\n        c.deepcopy = None\nc = C()\nc.self = c\ncopy._keep = c',
  ],
  [
    'files left open (descriptors live outside wasm memory)',
    `${WALK}import json, keyword\njson.dumps.files = [real_sys.modules['io'].open(keyword.__file__.rpartition('/')[0], 'rb') for _ in range(5)]`,
  ],
  ['descriptors closed', `${WALK}os = real_sys.modules['os']\nfor fd in (0, 1, 2):\n    os.close(fd)`],
  [
    'a generator suspended in a module',
    'import json\ndef g():\n    import string\n    try:\n        yield 1\n    finally:\n        string.ascii_letters = "gen"\nit = g()\nnext(it)\njson.held = it',
  ],
];

/** Fingerprints the script realm: every global's own properties, deep, and realm-wide statics. */
const JS_STATE_PROBE = `
const seen = new Set();
const parts = [];
const describe = (v, path, depth) => {
  if ((typeof v !== 'object' && typeof v !== 'function') || v === null) { parts.push(path + '=' + typeof v + ':' + String(v).slice(0, 80)); return; }
  if (seen.has(v)) { parts.push(path + '=seen'); return; }
  seen.add(v);
  parts.push(path + '=' + typeof v + (Object.isFrozen(v) ? ' frozen' : ' open') + ' proto:' + String(Object.getPrototypeOf(v) === null));
  if (depth === 0) return;
  for (const key of Reflect.ownKeys(v)) {
    const d = Object.getOwnPropertyDescriptor(v, key);
    const name = path + '.' + String(key);
    if (d === undefined) continue;
    parts.push(name + (d.writable ? ' w' : '') + (d.configurable ? ' c' : '') + (d.get ? ' get' : ''));
    if ('value' in d) describe(d.value, name, depth - 1);
  }
};
for (const key of Reflect.ownKeys(globalThis)) describe(globalThis[key], String(key), 3);
let h = 2166136261;
const text = parts.join('\\n');
for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
result = { hash: h, count: parts.length };
`;

const JS_BEHAVIOUR_PROBE = `
const out = [];
const check = (label, f) => { try { out.push([label, JSON.stringify(f())]); } catch (e) { out.push([label, 'threw ' + e.name + ': ' + e.message]); } };
check('RegExp statics', () => [RegExp.$1, RegExp.lastMatch, RegExp.input, RegExp.leftContext, RegExp['$_'], RegExp['$&']]);
check('Error', () => [Error.stackTraceLimit, typeof Error.prepareStackTrace, typeof Error.captureStackTrace, new Error('x').stack.split('\\n').length]);
check('Symbol registry', () => [String(Symbol.keyFor(Symbol.for('lucien'))), typeof Symbol.for]);
check('Object.prototype', () => [Object.keys(Object.prototype), ({}).polluted, ({}).toString(), 'x' in {}]);
check('Array', () => { const a = [3, 1, 2]; a.push(4); return [a.length, a.sort(), [1, 2].map((x) => x * 2), Array.from('ab'), [...[1, 2]]]; });
check('JSON', () => [JSON.parse('{"a":1}'), JSON.stringify({ a: [1, 'é'] })]);
check('String', () => [' a '.trim(), 'a-b'.split('-'), 'abc'.replace('b', 'x'), 'x'.padStart(3, '.')]);
check('Function', () => [typeof Function.prototype.call, (function (a) { return this === undefined && a; }).call(undefined, 7)]);
check('Promise', () => [typeof Promise.prototype.then, typeof Promise.resolve(1).then]);
check('Date', () => [new Date(0).toISOString(), Date.UTC(2024, 0, 1)]);
check('Map/Set', () => [new Map([[1, 2]]).get(1), new Set([1, 1]).size]);
check('Intl', () => [new Intl.NumberFormat('en-US').format(1234.5), typeof Intl.DateTimeFormat]);
check('Math', () => [Math.max(1, 2), Math.PI, typeof Math.random, Object.isFrozen(Math)]);
check('globals', () => [typeof globalThis.leak, typeof leak2, Object.keys(globalThis).length]);
check('console', () => [typeof console.log, Object.isFrozen(console)]);
check('buckets', () => [Object.keys(buckets), buckets.getBucket('live').get('k')]);
check('args', () => args);
result = out;
`;

export const JS_PROBES: readonly [string, string][] = [
  ['javascript realm fingerprint', JS_STATE_PROBE],
  ['javascript behaviour', JS_BEHAVIOUR_PROBE],
];

export const JS_MUTATORS: readonly [string, string][] = [
  ['Object.prototype pollution', 'Object.prototype.polluted = 1;'],
  ['Object.prototype defineProperty', 'Object.defineProperty(Object.prototype, "polluted", { value: 1 });'],
  ['Array.prototype.push', 'Array.prototype.push = function () { return 42; };'],
  ['Array.prototype iterator', 'Array.prototype[Symbol.iterator] = function* () { yield "pwned"; };'],
  ['JSON.parse', 'JSON.parse = () => "pwned";'],
  ['String.prototype.trim', 'String.prototype.trim = () => "pwned";'],
  ['Function.prototype.call', 'Function.prototype.call = () => "pwned";'],
  ['Promise.prototype.then', 'Promise.prototype.then = () => "pwned";'],
  ['Date.prototype', 'Date.prototype.toISOString = () => "pwned";'],
  ['Map.prototype.get', 'Map.prototype.get = () => "pwned";'],
  ['a global variable', 'globalThis.leak = "secret"; leak2 = 1;'],
  [
    'Reflect on the global',
    'Reflect.set(globalThis, "leak", 1); Reflect.defineProperty(globalThis, "leak2", { value: 1 });',
  ],
  ['RegExp legacy statics', 'const m = /(s3cr3t)-(\\w+)/.exec("token s3cr3t-abc"); result = RegExp.$1;'],
  ['RegExp statics redefined', 'Object.defineProperty(RegExp, "$1", { get: () => "pwned", configurable: true });'],
  ['Error.stackTraceLimit', 'Error.stackTraceLimit = 0;'],
  ['Error.prepareStackTrace', 'Error.prepareStackTrace = (e, s) => "pwned";'],
  ['Error.captureStackTrace', 'Error.captureStackTrace = () => "pwned";'],
  ['Symbol registry', 'Symbol.for("lucien"); Symbol.for = () => Symbol("pwned");'],
  ['Math.random replaced', 'Math.random = () => 0.5;'],
  ['Intl prototype', 'Intl.NumberFormat.prototype.format = () => "pwned";'],
  ['console methods', 'console.log = () => {};'],
  ['the bucket API', 'buckets.getBucket = () => ({ get: () => "pwned" }); buckets.evil = 1;'],
  [
    'a bucket object',
    'const b = buckets.getBucket("live"); b.get = () => "pwned"; Object.getPrototypeOf(b).get = () => "pwned";',
  ],
  ['a pending promise chain', 'Promise.resolve().then(() => { Object.prototype.late = 1; });'],
  ['__proto__ of shared objects', 'Object.setPrototypeOf(Math, {}); buckets.__proto__ = { evil: 1 };'],
  ['a frozen intrinsic unfrozen', 'Object.defineProperty(Array.prototype, "evil", { value: 1, configurable: true });'],
];
