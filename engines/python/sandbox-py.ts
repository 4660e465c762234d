/**
 * The Python half of the Python engine, as source text run once at host start
 * (tsc copies no .py files into dist/, and a string needs no extra read path).
 * It defines `_lucien_make(bridge)`, which returns the compile and run entry
 * points, hides JavaScript from scripts, installs the audit hook and takes the
 * snapshot that every run is rolled back to. It must never keep a reference to
 * a JsProxy other than the one bridge function it is handed.
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

    class _Limit(BaseException):
        pass

    encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(',', ':'))
    decoder = json.JSONDecoder()
    encode, decode = encoder.encode, decoder.decode

    def call(msg):
        answer = bridge(encode(msg))
        if answer[:1] == 'v':
            return decode(answer[1:])
        raise LucienError(answer[1:])

    def need_str(what, value):
        if type(value) is not str:
            raise TypeError('%s must be a str, not %s' % (what, type(value).__name__))
        return value

    class Bucket:
        __slots__ = ('_name',)

        def __init__(self, name):
            self._name = need_str('bucket name', name)

        def __repr__(self):
            return '<Bucket %r>' % (self._name,)

        def get(self, key):
            return call({'op': 'get', 'bucket': self._name, 'key': need_str('key', key)})

        def getMany(self, keys):
            keys = [need_str('key', k) for k in keys]
            return call({'op': 'getMany', 'bucket': self._name, 'keys': keys})

        def put(self, key, obj):
            need_str('key', key)
            if not isinstance(obj, dict):
                raise TypeError('put() value must be a dict, not %s' % type(obj).__name__)
            call({'op': 'put', 'bucket': self._name, 'key': key, 'value': encode(obj)})

        def delete(self, key):
            call({'op': 'delete', 'bucket': self._name, 'key': need_str('key', key)})

        def list(self, prefix='', limit=100, start_after=None):
            if type(limit) is not int or isinstance(limit, bool):
                raise TypeError('limit must be an int')
            if start_after is not None:
                need_str('start_after', start_after)
            pairs = call({'op': 'list', 'bucket': self._name, 'prefix': need_str('prefix', prefix),
                          'limit': limit, 'startAfter': start_after})
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
        while len(codes) > 1024:
            del codes[next(iter(codes))]
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

    saved_dicts, saved_lists, saved_sets, saved_classes = [], [], [], []

    def take_snapshot(extra):
        saved_classes.extend((c, dict(c.__dict__)) for c in freeze_classes())
        modules = [o for o in gc.get_objects() if type(o) is types.ModuleType]
        # Drop the JavaScript objects Pyodide's own modules still hold (e.g.
        # webloop's scheduler), so no module dict leads to JavaScript.
        for m in modules:
            d = m.__dict__
            for k in [k for k, v in d.items() if not isinstance(v, type) and type(type(v)).__name__ == '_JsProxyMetaClass']:
                del d[k]
        spaces = [m.__dict__ for m in modules] + [extra]
        seen = set()
        for space in spaces:
            for value in [space] + list(space.values()):
                if id(value) in seen:
                    continue
                seen.add(id(value))
                t = type(value)
                if t is dict:
                    saved_dicts.append((value, value.copy()))
                elif t is list:
                    saved_lists.append((value, value[:]))
                elif t is set:
                    saved_sets.append((value, value.copy()))
                elif t not in (types.ModuleType, FunctionType, type) and type(getattr(value, '__dict__', None)) is dict:
                    inner = value.__dict__
                    if id(inner) not in seen:
                        seen.add(id(inner))
                        saved_dicts.append((inner, inner.copy()))
        return len(saved_classes)

    limits = (sys.getrecursionlimit(), sys.get_int_max_str_digits())

    def restore():
        for d, snap in saved_dicts:
            d.clear()
            d.update(snap)
        for l, snap in saved_lists:
            l[:] = snap
        for s, snap in saved_sets:
            s.clear()
            s.update(snap)
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
        sys.setrecursionlimit(limits[0])
        sys.set_int_max_str_digits(limits[1])
        gc.enable()
        random.seed()

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
             'args': decode(args_text), 'LucienError': LucienError}
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
                    message = str(e)
                except BaseException:
                    message = '<unprintable %s>' % type(e).__name__
                error = {'kind': 'error', 'type': str(type(e).__name__), 'message': message}
            state['hook'] = False
            line = script_line(tb)
            if line is not None and error['kind'] == 'error':
                error['line'] = line
            del e, tb
        finally:
            state['hook'] = False
            g.clear()
            restore()
        if over[0] and error is None:
            error = {'kind': 'limit', 'type': 'LogsTooLarge', 'message': 'logs exceed %d bytes' % max_log}
        if error is not None:
            return encode({'ok': False, 'error': error, 'logs': logs})
        return encode({'ok': True, 'result': result, 'logs': logs})

    return compile_script, run_script, take_snapshot
`;
