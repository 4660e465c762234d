"""The Python half of the Python engine (python-engine.ts runs this file once
per host, before any script). It defines `_lucien_make(bridge, script_file,
api_source)`, which hides JavaScript from scripts, installs the audit hook,
builds what scripts see (bucket_api.py, in a namespace of its own), takes the
snapshot that state-watch.ts watches, and returns the compile, run, restore
and release entry points (the snapshot and rollback are in rollback.py, the
bridge's Python end in bridge.py).

The machinery here is out of the scripts' reach by construction: nothing a
script is handed (bucket_api.py's objects, its globals and builtins, the
values it gets back) refers to a function, closure, dict or list defined in
this file, and the only JavaScript object Python holds (the bridge) lives in
a generator frame. Frames are the one remaining way in, and every way to a
frame (tb_frame, gi_frame, f_back, sys._getframe) is refused by the audit
hook. The hook is on from the end of _lucien_make until the process exits:
no code path runs a script's code, or code a script could have changed,
without it. Names this file looks up at run time come from a private copy of
builtins (below) or were bound once when _lucien_make ran.

Must never hand a script any object created here other than the strings and
plain values it returns, and must never keep a JsProxy other than the bridge.
"""
import builtins as _builtins_module

# Every function below looks its builtins up here, not in the builtins module
# a script can reach through a __subclasses__() walk.
__builtins__ = dict(_builtins_module.__dict__)
del _builtins_module

# Defined by rollback.py and bridge.py, which the engine runs in this namespace right after this file.
_lucien_rollback = _lucien_bridge = None

# Size of the inbox (bridge.py).
INBOX_BYTES = 256 * 1024


def _lucien_make(bridge, script_file, api_source):
    import sys, builtins, json, types, random, gc, _random, os
    FunctionType = types.FunctionType
    str_partition, str_startswith, str_encode = str.partition, str.startswith, str.encode
    setrecursionlimit, set_int_max_str_digits = sys.setrecursionlimit, sys.set_int_max_str_digits
    gc_enable = gc.enable
    quote = json.encoder.encode_basestring  # C: escapes one str as JSON

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
    # hook: 0 while this function builds the sandbox, then 1 for good (2 while
    # restore() puts shared objects back). quiet: set while the hook decides,
    # and while script_line() reads traceback frames (C getters only).
    HOOK_OFF, HOOK_ON, HOOK_RESTORING = 0, 1, 2
    hook = [HOOK_OFF]
    quiet = [False]

    def audit(event, args):
        # Nothing here may call a method of an object a script made: a str
        # subclass's startswith() would run with every event ignored.
        mode = hook[0]
        if mode == HOOK_OFF or quiet[0]:
            return
        quiet[0] = True
        try:
            if event == 'import':
                name = args[0]
                if type(name) is not str or str_partition(name, '.')[0] in BLOCKED:
                    raise ImportError('import of %r is not allowed in a script' % (str(name) if type(name) is str else '?',))
            elif event == 'open':
                path, how = args[0], args[1]
                if not (type(path) is str and str_startswith(path, '/lib/python3') and
                        (how is None or (type(how) is str and (how == 'r' or how == 'rb')))):
                    raise PermissionError('sandbox: files are not available to scripts')
            elif event == 'object.__setattr__' or event == 'object.__delattr__':
                obj = args[0]
                # Scripts may change their own functions, never shared ones.
                if mode != HOOK_RESTORING and not (type(obj) is FunctionType and obj.__code__.co_filename == script_file):
                    raise PermissionError('sandbox: %s on a shared object is not allowed' % event)
            elif str_startswith(event, DENY_PREFIXES):
                raise PermissionError('sandbox: %s is not allowed' % event)
        finally:
            quiet[0] = False
    sys.addaudithook(audit)

    # ---- the sandbox's own decoder: json.loads without its regex passes ----
    decoder = json.JSONDecoder()
    scan, decode = decoder.scan_once, decoder.decode

    def loads(text):
        try:
            value, end = scan(text, 0)
        except StopIteration:
            end = -1
        return value if end == len(text) else decode(text)

    # ---- the bridge (bridge.py) ---------------------------------------------
    pump, report, unpack, received, inbox = _lucien_bridge(bridge, INBOX_BYTES, scan, loads)

    # ---- what scripts see ----------------------------------------------------
    api_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(',', ':'))
    api_decoder = json.JSONDecoder()
    api_builtins = dict(builtins.__dict__)
    run_state = [[], 0, 0, False]
    api = {'__builtins__': api_builtins, '__name__': 'lucien'}
    exec(compile(api_source, '<lucien>', 'exec', dont_inherit=True), api)
    api.update(_send=pump.send, _quote=quote, _scan=api_decoder.scan_once, _decode=api_decoder.decode,
               _encode=api_encoder.encode, _run=run_state, _real_import=builtins.__import__, _ALLOWED=ALLOWED)
    LucienError, Limit, BUCKETS = api['LucienError'], api['_Limit'], api['BUCKETS']
    PermissionDenied = api['PermissionDenied']

    base_builtins = dict(builtins.__dict__)
    for name in ('open', 'input', 'breakpoint', 'help', 'exit', 'quit', 'copyright', 'credits', 'license'):
        base_builtins.pop(name, None)
    base_builtins['__import__'] = api['script_import']
    base_builtins['print'] = api['script_print']

    # The sandbox's own coder: C scanner, and results encoded by a private
    # encoder. JSONEncoder.encode() builds a C encoder (and a closure) on every
    # call, about 3 us here; this one is built once, with what encode() would
    # pass it, and its circular-reference markers are emptied after every
    # result (a failed encode leaves its entries, and they hold script objects).
    # `default` runs json's Python code, only ever with the hook on.
    result_coder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(',', ':'))
    markers = {}
    c_encode = json.encoder.c_make_encoder and json.encoder.c_make_encoder(
        markers, result_coder.default, quote, None, ':', ',', False, False, False)
    str_join = str.join

    if c_encode is None:
        encode = result_coder.encode
    else:
        def encode(value):
            if isinstance(value, str):
                return quote(value)
            try:
                return str_join('', c_encode(value, 0))
            finally:
                markers.clear()


    def failure(kind, type_name, message, line=None, logs=None):
        text = '{"ok":false,"error":{"kind":"%s","type":%s,"message":%s%s}' % (
            kind, quote(type_name), quote(message), '' if line is None else ',"line":%d' % line)
        if logs is not None:
            text += ',"logs":[' + ','.join([quote(x) for x in logs]) + ']'
        return text + '}'

    codes = {}
    counter = [0]

    def compile_script(name, source):
        try:
            code = compile(source, script_file, 'exec', dont_inherit=True)
        except SyntaxError as e:
            line = e.lineno if type(e.lineno) is int else None
            return failure('syntax', type(e).__name__, str(e.msg), line)
        except BaseException as e:
            return failure('syntax', type(e).__name__, str(e))
        counter[0] += 1
        codes[counter[0]] = code
        return '{"ok":true,"id":%d}' % counter[0]

    limits = (sys.getrecursionlimit(), sys.get_int_max_str_digits())

    # Reseed the generator's C state only: random.seed() also writes
    # gauss_next (a watched dict would change after every run), and reads
    # 2.5 KB of urandom (~45 us here); 256 bits are plenty to keep one run
    # from predicting the next one's numbers. Every run starts with a fresh
    # seed: a restored memory image would otherwise replay the image's state.
    reseed, generator, urandom, from_bytes = _random.Random.seed, random._inst, os.urandom, int.from_bytes

    def finish():
        setrecursionlimit(limits[0])
        set_int_max_str_digits(limits[1])
        gc_enable()

    take_snapshot, restore, release = _lucien_rollback(
        hook, HOOK_ON, HOOK_RESTORING, finish, (api, api_builtins, base_builtins), (id(run_state),))

    # ---- one run -------------------------------------------------------------
    def script_line(tb):
        line = None
        quiet[0] = True  # traceback and frame getters are C; nothing else runs
        try:
            while tb is not None:
                if tb.tb_frame.f_code.co_filename == script_file:
                    line = tb.tb_lineno
                tb = tb.tb_next
        finally:
            quiet[0] = False
        return line

    def log_failure(logs, max_log):
        """The run's log lines, unless a script put something else in them or
        they pass the limit (a script can reach the list through print)."""
        used = 0
        for x in logs:
            if type(x) is not str:
                return 'ResultTypeError'
            used += len(str_encode(x, 'utf-8', 'surrogatepass')) + 1
        return None if used <= max_log else 'LogsTooLarge'

    def run_script(code_id, args_text, max_log, max_result, seed, prefetch):
        """Runs a compiled script. seed: hex digits for `random` (from the
        host's buffered randomness; '' draws its own); prefetch: answers the
        host expects the script to ask for (unpack's framing, or ''). The
        answer is prefixed with 'p', the length of report()'s text, ':' and
        that text when the script took prefetched answers after the last call
        that crossed."""
        code = codes.get(code_id)
        if code is None:
            return 'missing'
        try:
            answer = run_code(code, args_text, max_log, max_result, seed, prefetch)
        finally:
            left = report()
        return answer if left == '' else 'p%d:%s%s' % (len(left), left, answer)

    def run_code(code, args_text, max_log, max_result, seed, prefetch):
        reseed(generator, int(seed, 16) if seed else from_bytes(urandom(32)))
        if prefetch:
            try:
                unpack(received(prefetch))
            except BaseException:
                report()  # drops whatever was unpacked
        logs = []
        run_state[0], run_state[1], run_state[2], run_state[3] = logs, 0, max_log, False
        own_builtins = base_builtins.copy()
        g = {'__builtins__': own_builtins, '__name__': '__lucien__', 'buckets': BUCKETS,
             'args': loads(args_text), 'LucienError': LucienError, 'PermissionDenied': PermissionDenied}
        error = None
        result = 'null'
        try:
            exec(code, g)
            result = encode(g.get('result'))
            if type(result) is not str:
                error = ('error', 'TypeError', 'the result is not JSON', None)
            elif len(str_encode(result, 'utf-8', 'surrogatepass')) > max_result:
                error = ('limit', 'ResultTooLarge', 'result exceeds %d bytes' % max_result, None)
        except BaseException as e:
            tb = e.__traceback__
            if run_state[3] or type(e) is Limit:
                error = ('limit', 'LogsTooLarge', 'logs exceed %d bytes' % max_log, None)
            elif isinstance(e, MemoryError):
                error = ('memory', 'MemoryError', 'script ran out of memory', None)
            else:
                try:
                    message = str.__str__(str(e))
                except BaseException:
                    message = '<unprintable %s>' % type(e).__name__
                kind_name = type(e).__name__
                error = ('error', kind_name if type(kind_name) is str else 'Error', message, script_line(tb))
            del e, tb
        finally:
            # Script objects die here; their finalizers run audited.
            g.clear()
            own_builtins.clear()
            over = run_state[3]
            run_state[0] = None
            finish()
        problem = log_failure(logs, max_log)
        if problem == 'ResultTypeError':
            return failure('error', 'TypeError', 'a log line is not a str', None, [])
        if over or problem is not None:
            return failure('limit', 'LogsTooLarge', 'logs exceed %d bytes' % max_log, None, [] if problem else logs)
        if error is not None:
            return failure(error[0], error[1], error[2], error[3], logs)
        if not logs:
            return 'r' + result  # the common answer, without JSON around JSON
        return '{"ok":true,"result":%s,"logs":[%s]}' % (quote(result), ','.join([quote(x) for x in logs]))

    def discard_script(code_id):
        """Forgets a compiled script: the server decides what a host keeps
        (engines/host/run-host.ts), so this cache has no policy of its own."""
        codes.pop(code_id, None)
        return ''

    return compile_script, run_script, take_snapshot, restore, release, discard_script, inbox
