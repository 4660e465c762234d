/**
 * The Python half of the Python engine, as source text run once at host start
 * (tsc copies no .py files into dist/, and a string needs no extra read path).
 * It defines `_lucien_make(bridge)`, which returns the compile and run entry
 * points, hides JavaScript from scripts, installs the audit hook, takes the
 * snapshot that every run is rolled back to and restores the objects the
 * JavaScript side (state-watch.ts) reports changed. It must never keep a
 * reference to a JsProxy other than the one bridge function it is handed, and
 * no script code may ever run while the audit hook is off.
 */
export const SANDBOX_PY = String.raw`
def _lucien_make(bridge, script_file):
    import sys, builtins, json, types, random, gc
    FunctionType = types.FunctionType

    # Modules a script may import: pure computation, preloaded so that no run
    # ever adds to sys.modules and every one of them is in the snapshot.
    ALLOWED = frozenset((
        'abc', 'array', 'base64', 'binascii', 'bisect', 'calendar', 'collections',
        'collections.abc', 'copy', 'dataclasses', 'datetime', 'decimal', 'difflib',
        'enum', 'fractions', 'functools', 'hashlib', 'heapq', 'html', 'itertools',
        'json', 'keyword', 'math', 'numbers', 'operator', 'pprint', 'random', 're',
        'statistics', 'string', 'struct', 'textwrap', 'time', 'typing',
        'unicodedata', 'zlib'))
    for name in sorted(ALLOWED):
        __import__(name)
    # Roots no run may import, even indirectly (the audit hook sees every import
    # that is not already cached in sys.modules).
    BLOCKED = frozenset((
        'js', 'pyodide', 'pyodide_js', '_pyodide', '_pyodide_core', 'micropip',
        'ctypes', '_ctypes', 'socket', '_socket', 'ssl', '_ssl', 'select', 'selectors',
        'subprocess', '_posixsubprocess', 'multiprocessing', 'threading', '_thread',
        'asyncio', 'signal', 'os', 'posix', 'shutil', 'tempfile', 'pathlib', 'io',
        'importlib', 'gc', 'inspect', 'marshal', 'pickle', '_pickle', 'code', 'codeop',
        'runpy', 'pdb', 'atexit', 'faulthandler', 'mmap', 'fcntl', 'pty', 'resource',
        'zipimport', 'http', 'urllib', 'sqlite3', 'webbrowser', 'sys', 'builtins'))

    # Hide JavaScript: drop every module that leads to it and the finder that
    # serves "import js"; the hook below refuses to import them again.
    for name in list(sys.modules):
        if name.partition('.')[0] in ('js', 'pyodide', 'pyodide_js', '_pyodide', '_pyodide_core', 'micropip'):
            del sys.modules[name]
    sys.meta_path[:] = [f for f in sys.meta_path if 'JsFinder' not in type(f).__name__]
    sys.path[:] = [p for p in sys.path if p.startswith('/lib/')]

    DENY_PREFIXES = ('os.', 'shutil.', 'subprocess.', 'socket.', 'ctypes.', 'gc.',
                     'sys.set', 'sys._current', 'sys.add', 'sys.monitoring', 'sys._getframe',
                     'marshal.', 'pickle.', 'cpython.', 'code.__new__', 'function.__new__',
                     'object.__getattr__', 'webbrowser', 'mmap.', 'fcntl.', 'resource.',
                     'signal.', 'syslog.', 'winreg', 'msvcrt', 'pty.', 'posix.')
    state = {'hook': False, 'inhook': False}

    def audit(event, args):
        if not state['hook'] or state['inhook']:
            return
        state['inhook'] = True
        try:
            if event == 'import':
                if args[0].partition('.')[0] in BLOCKED:
                    raise ImportError('import of %r is not allowed in a script' % (args[0],))
            elif event == 'open':
                path, mode = args[0], args[1]
                if not (isinstance(path, str) and path.startswith('/lib/python3') and (mode is None or mode in ('r', 'rb'))):
                    raise PermissionError('sandbox: files are not available to scripts')
            elif event in ('object.__setattr__', 'object.__delattr__'):
                obj = args[0]
                # Scripts may change their own functions, never shared ones.
                if not (type(obj) is FunctionType and obj.__code__.co_filename == script_file):
                    raise PermissionError('sandbox: %s on a shared object is not allowed' % event)
            elif event.startswith(DENY_PREFIXES):
                raise PermissionError('sandbox: %s is not allowed' % event)
        finally:
            state['inhook'] = False
    sys.addaudithook(audit)

    class LucienError(Exception):
        """A bucket operation the server refused."""

    class PermissionDenied(LucienError):
        """A bucket operation the caller's rights do not allow (scripts run with their caller's rights)."""

    class _Limit(BaseException):
        pass

    encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(',', ':'))
    decoder = json.JSONDecoder()
    encode, decode, scan = encoder.encode, decoder.decode, decoder.scan_once
    quote = json.encoder.encode_basestring  # C; the escaping encode() uses for str

    def loads(text, start=0):
        """json.loads without its two regex passes: the C scanner, with the
        full decoder only when there is whitespace around the value."""
        try:
            value, end = scan(text, start)
        except StopIteration:
            end = -1
        return value if end == len(text) else decode(text[start:])

    # Calls are JSON text built here by hand (each string escaped by the C
    # encoder): a bridge call is on every script's hot path, and encoding a
    # dict is several times slower. The server checks every call anyway
    # (src/procedures/run-transaction.ts parseCall).
    def call(text):
        answer = bridge(text)
        if answer[:1] == 'v':
            return loads(answer, 1)
        if answer[:1] == 'd':
            raise PermissionDenied(answer[1:])
        raise LucienError(answer[1:])

    def need_str(what, value):
        if type(value) is not str:
            raise TypeError('%s must be a str, not %s' % (what, type(value).__name__))
        return value

    class Bucket:
        __slots__ = ('_name', '_head')

        def __init__(self, name):
            self._name = need_str('bucket name', name)
            self._head = ',"bucket":' + quote(name) + ','

        def __repr__(self):
            return '<Bucket %r>' % (self._name,)

        def get(self, key):
            return call('{"op":"get"' + self._head + '"key":' + quote(need_str('key', key)) + '}')

        def getMany(self, keys):
            keys = ','.join([quote(need_str('key', k)) for k in keys])
            return call('{"op":"getMany"' + self._head + '"keys":[' + keys + ']}')

        def put(self, key, obj):
            need_str('key', key)
            if not isinstance(obj, dict):
                raise TypeError('put() value must be a dict, not %s' % type(obj).__name__)
            call('{"op":"put"' + self._head + '"key":' + quote(key) + ',"value":' + quote(encode(obj)) + '}')

        def delete(self, key):
            call('{"op":"delete"' + self._head + '"key":' + quote(need_str('key', key)) + '}')

        def list(self, prefix='', limit=100, start_after=None):
            if type(limit) is not int or isinstance(limit, bool):
                raise TypeError('limit must be an int')
            after = 'null' if start_after is None else quote(need_str('start_after', start_after))
            pairs = call('{"op":"list"' + self._head + '"prefix":' + quote(need_str('prefix', prefix)) +
                         ',"limit":' + int.__repr__(limit) + ',"startAfter":' + after + '}')
            return [(k, v) for k, v in pairs]

    class Buckets:
        __slots__ = ()

        def getBucket(self, name):
            return Bucket(name)

        def __getitem__(self, name):
            return Bucket(name)

    real_import = builtins.__import__

    def script_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level != 0 or name not in ALLOWED:
            raise ImportError('import of %r is not allowed in a script' % (name,))
        return real_import(name, globals, locals, fromlist, 0)

    base_builtins = dict(builtins.__dict__)
    for name in ('open', 'input', 'breakpoint', 'help', 'exit', 'quit', 'copyright', 'credits', 'license'):
        base_builtins.pop(name, None)
    base_builtins['__import__'] = script_import

    codes = {}
    counter = [0]

    def compile_script(name, source):
        try:
            code = compile(source, script_file, 'exec', dont_inherit=True)
        except SyntaxError as e:
            return encode({'ok': False, 'error': {'kind': 'syntax', 'type': type(e).__name__,
                                                  'message': str(e.msg), 'line': e.lineno}})
        except BaseException as e:
            return encode({'ok': False, 'error': {'kind': 'syntax', 'type': type(e).__name__, 'message': str(e)}})
        counter[0] += 1
        codes[counter[0]] = code
        return encode({'ok': True, 'id': counter[0]})

    # ---- the snapshot every run is rolled back to ---------------------------
    IMMUTABLE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE

    def classes():
        seen, todo = set(), [object]
        while todo:
            cls = todo.pop()
            if id(cls) in seen:
                continue
            seen.add(id(cls))
            try:
                todo.extend(type.__subclasses__(cls))
            except TypeError:
                pass
            yield cls

    def freeze_classes():
        """Marks every class that exists now immutable, as C types already are:
        "json.JSONEncoder.x = 1" then raises TypeError instead of leaking into
        later runs, and no run pays for checking 800 class dicts. tp_flags has
        no Python setter, so write it through ctypes, once, before ctypes is
        blocked. Returns the classes it could not freeze."""
        import ctypes
        word = ctypes.sizeof(ctypes.c_void_p)
        offset = 21 * word  # PyVarObject header + 18 slots before tp_flags
        left = []
        for cls in classes():
            flags = cls.__flags__
            if flags & IMMUTABLE:
                continue
            cell = ctypes.c_ulong.from_address(id(cls) + offset)
            if cell.value != flags:
                left.append(cls)
                continue
            cell.value = flags | IMMUTABLE
        for name in [n for n in sys.modules if n.partition('.')[0] in ('ctypes', '_ctypes')]:
            del sys.modules[name]
        return left

    # What a run may change, and how each one looked at the snapshot. The
    # JavaScript side (state-watch.ts) watches these objects and names the
    # ones that changed; only those are restored, so a run that changes
    # nothing pays nothing here.
    saved = {}       # id -> (dict | list | set, copy of its contents)
    bindings = {}    # id -> (instance, the __dict__ it had): "obj.__dict__ = {}" swaps it
    saved_classes = []
    dropped = []     # what restores took out; released with the hook on (finalizers)
    MANAGED_DICT = 1 << 4  # Py_TPFLAGS_MANAGED_DICT
    PTR = tuple.__itemsize__

    def dict_slot(obj):
        """Where the object keeps its __dict__ pointer, relative to id(obj)."""
        t = type(obj)
        if t.__flags__ & MANAGED_DICT:
            return -3 * PTR
        if t.__dictoffset__ > 0:
            return t.__dictoffset__
        return None

    def take_snapshot(extra):
        saved_classes.extend((c, dict(c.__dict__)) for c in freeze_classes())
        modules = [o for o in gc.get_objects() if type(o) is types.ModuleType]
        # Drop the JavaScript objects Pyodide's own modules still hold (e.g.
        # webloop's scheduler), so no module dict leads to JavaScript.
        for m in modules:
            d = m.__dict__
            for k in [k for k, v in d.items() if not isinstance(v, type) and type(type(v)).__name__ == '_JsProxyMetaClass']:
                del d[k]
        spaces = [m.__dict__ for m in modules] + [extra, base_builtins]
        seen = set()
        for space in spaces:
            for value in [space] + list(space.values()):
                if id(value) in seen:
                    continue
                seen.add(id(value))
                t = type(value)
                if t is dict or t is set:
                    saved[id(value)] = (value, value.copy())
                elif t is list:
                    saved[id(value)] = (value, value[:])
                elif t not in (types.ModuleType, FunctionType, type) and type(getattr(value, '__dict__', None)) is dict:
                    inner = value.__dict__
                    # Only an object that holds its own __dict__ can have it
                    # swapped (a bound method shows its function's).
                    if dict_slot(value) is not None and object.__getattribute__(value, '__dict__') is inner:
                        bindings[id(value)] = (value, inner)
                    if id(inner) not in seen:
                        seen.add(id(inner))
                        saved[id(inner)] = (inner, inner.copy())
        plan = {'dicts': [], 'lists': [], 'sets': [], 'listType': id(list), 'setType': id(set),
                'bindings': [[k, dict_slot(o), id(d)] for k, (o, d) in bindings.items()]}
        for k, (o, _) in saved.items():
            if type(o) is dict:
                plan['dicts'].append(k)
            else:
                plan['lists' if type(o) is list else 'sets'].append([k, len(o)])
        return encode(plan)

    limits = (sys.getrecursionlimit(), sys.get_int_max_str_digits())

    import _random, os
    # Reseed the generator's C state only: random.seed() also writes
    # gauss_next (a watched dict would change after every run), and reads
    # 2.5 KB of urandom (~45 us here); 256 bits are plenty to keep one run
    # from predicting the next one's numbers.
    reseed, generator, urandom, from_bytes = _random.Random.seed, random._inst, os.urandom, int.from_bytes
    # Now too: a host booted from the build's memory snapshot starts with the
    # snapshot's state, the same in every host (boot.ts).
    reseed(generator, from_bytes(urandom(32)))

    def finish():
        sys.setrecursionlimit(limits[0])
        sys.set_int_max_str_digits(limits[1])
        gc.enable()
        reseed(generator, from_bytes(urandom(32)))

    def restore_contents(obj, snap):
        # Nothing that dies here may run code with the hook off: keep it alive.
        if type(obj) is list:
            dropped.append(obj[:])
            obj[:] = snap
        else:
            dropped.append(obj.copy())
            obj.clear()
            obj.update(snap)

    def restore_binding(obj, inner):
        now = object.__getattribute__(obj, '__dict__')
        if now is not inner:
            dropped.append(now)
            object.__setattr__(obj, '__dict__', inner)

    def restore(changed):
        """Rolls back what changed: '*' (everything) or the ids the watcher
        named, "b<id>" for an instance whose __dict__ was replaced."""
        if changed == '*':
            for entry in bindings.values():
                restore_binding(*entry)
            for entry in saved.values():
                restore_contents(*entry)
        else:
            for p in changed.split():
                if p[0] == 'b':
                    entry = bindings.get(int(p[1:]))
                    if entry is not None:
                        restore_binding(*entry)
                else:
                    entry = saved.get(int(p))
                    if entry is not None:
                        restore_contents(*entry)
        for cls, snap in saved_classes:
            now = cls.__dict__
            if len(now) == len(snap) and all(now.get(k) is v for k, v in snap.items()):
                continue
            for k in [k for k in now if k not in snap]:
                try:
                    delattr(cls, k)
                except (AttributeError, TypeError):
                    pass
            for k, v in snap.items():
                if now.get(k) is not v:
                    try:
                        setattr(cls, k, v)
                    except (AttributeError, TypeError):
                        pass
        finish()

    def release():
        """Lets go of what restore() took out. Finalizers may run: with the
        hook on, and whatever they change the watcher sees (engine.ts then
        restores again)."""
        state['hook'] = True
        try:
            dropped.clear()
        finally:
            state['hook'] = False
            finish()

    # ---- one run -------------------------------------------------------------
    def script_line(tb):
        line = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == script_file:
                line = tb.tb_lineno
            tb = tb.tb_next
        return line

    def run_script(code_id, args_text, max_log, max_result):
        code = codes.get(code_id)
        if code is None:
            return 'missing'
        logs, used, over = [], [0], [False]

        def script_print(*values, sep=' ', end='\n', file=None, flush=False):
            text = (' ' if sep is None else str(sep)).join(str(v) for v in values) + ('\n' if end is None else str(end))
            if text.endswith('\n'):
                text = text[:-1]
            used[0] += len(text.encode('utf-8', 'surrogatepass')) + 1
            if used[0] > max_log:
                over[0] = True
                raise _Limit('logs exceed %d bytes' % max_log)
            logs.append(text)

        own_builtins = dict(base_builtins)
        own_builtins['print'] = script_print
        g = {'__builtins__': own_builtins, '__name__': '__lucien__', 'buckets': Buckets(),
             'args': loads(args_text), 'LucienError': LucienError, 'PermissionDenied': PermissionDenied}
        error = None
        result = 'null'
        state['hook'] = True
        try:
            exec(code, g)
            result = encode(g.get('result'))
            if len(result.encode('utf-8', 'surrogatepass')) > max_result:
                error = {'kind': 'limit', 'type': 'ResultTooLarge', 'message': 'result exceeds %d bytes' % max_result}
        except BaseException as e:
            tb = e.__traceback__
            if over[0]:
                error = {'kind': 'limit', 'type': 'LogsTooLarge', 'message': 'logs exceed %d bytes' % max_log}
            elif isinstance(e, MemoryError):
                error = {'kind': 'memory', 'type': 'MemoryError', 'message': 'script ran out of memory'}
            else:
                try:
                    message = str.__str__(str(e))
                except BaseException:
                    message = '<unprintable %s>' % type(e).__name__
                error = {'kind': 'error', 'type': str(type(e).__name__), 'message': message}
            state['hook'] = False  # our own look at the frames
            line = script_line(tb)
            state['hook'] = True
            if line is not None and error['kind'] == 'error':
                error['line'] = line
            del e, tb
        finally:
            # Script objects die here; their finalizers run audited.
            state['hook'] = True
            g.clear()
            own_builtins.clear()
            state['hook'] = False
            finish()
        if over[0] and error is None:
            error = {'kind': 'limit', 'type': 'LogsTooLarge', 'message': 'logs exceed %d bytes' % max_log}
        if error is not None:
            return encode({'ok': False, 'error': error, 'logs': logs})
        if not logs:
            return 'r' + result  # the common answer, without JSON around JSON
        return encode({'ok': True, 'result': result, 'logs': logs})

    def discard_script(code_id):
        """Forgets a compiled script: the server decides what a host keeps
        (engines/host/run-host.ts), so this cache has no policy of its own."""
        codes.pop(code_id, None)
        return ''

    return compile_script, run_script, take_snapshot, restore, release, discard_script
`;
