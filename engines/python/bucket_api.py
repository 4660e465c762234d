"""What a Python script can reach of Lucien: `buckets`, `LucienError`, and
the `print` and `__import__` of its builtins.

sandbox.py runs this file once per host in a namespace of its own, so every
function here has that namespace (and nothing of the sandbox) as its
`__globals__` and no closure at all. Then the sandbox sets these names:

  _send     the send() of a generator that holds the bridge; its frame is
            out of reach (reading gi_frame is refused by the audit hook), and
            it turns every failure into an 'e' answer, so no JavaScript
            object ever reaches this file; it answers with text, or with a
            prefetched value already parsed (a fresh object, this call's own)
  _quote    json.encoder.encode_basestring (C)
  _scan, _decode, _encode   the C JSON scanner and this file's own coder
  _run      [logs, bytes used, byte limit, over]: the run in progress
  _real_import, _ALLOWED    the import a script may use

Must never hold a reference to the sandbox's machinery (its functions, the
compiled-code table, the audit hook's state) or to any JavaScript object: a
script may read and change everything here. Whatever it changes the engine
rolls back before another script runs.
"""

# Set by sandbox.py right after this file ran (see above).
_send = _quote = _scan = _decode = _encode = _run = _real_import = _ALLOWED = None


class LucienError(Exception):
    """A bucket operation the server refused."""


class PermissionDenied(LucienError):
    """A bucket operation the caller's rights do not allow (scripts run with their caller's rights)."""


class _Limit(BaseException):
    pass


def _loads(text, start=0):
    """json.loads without its two regex passes: the C scanner, with the full
    decoder only when there is whitespace around the value."""
    try:
        value, end = _scan(text, start)
    except StopIteration:
        end = -1
    return value if end == len(text) else _decode(text[start:])


# Calls are JSON text built here by hand (each string escaped by the C
# encoder): a bridge call is on every script's hot path, and encoding a dict
# is several times slower. The server checks every call anyway
# (src/procedures/bridge-call.ts parseCall).
def _call(text):
    answer = _send(text)
    if type(answer) is not str:
        return answer  # a prefetched value, parsed by the sandbox for this call alone
    if answer[:1] == 'v':
        return _loads(answer, 1)
    if answer[:1] == 'd':
        raise PermissionDenied(answer[1:])
    raise LucienError(answer[1:])


def _need_str(what, value):
    if type(value) is not str:
        raise TypeError('%s must be a str, not %s' % (what, type(value).__name__))
    return value


class Bucket:
    __slots__ = ('_name', '_head')

    def __init__(self, name):
        self._name = _need_str('bucket name', name)
        self._head = ',"bucket":' + _quote(name) + ','

    def __repr__(self):
        return '<Bucket %r>' % (self._name,)

    def get(self, key):
        return _call('{"op":"get"' + self._head + '"key":' + _quote(_need_str('key', key)) + '}')

    def getMany(self, keys):
        keys = ','.join([_quote(_need_str('key', k)) for k in keys])
        return _call('{"op":"getMany"' + self._head + '"keys":[' + keys + ']}')

    def put(self, key, obj):
        _need_str('key', key)
        if not isinstance(obj, dict):
            raise TypeError('put() value must be a dict, not %s' % type(obj).__name__)
        _call('{"op":"put"' + self._head + '"key":' + _quote(key) + ',"value":' + _quote(_encode(obj)) + '}')

    def delete(self, key):
        _call('{"op":"delete"' + self._head + '"key":' + _quote(_need_str('key', key)) + '}')

    def list(self, prefix='', limit=100, start_after=None):
        if type(limit) is not int or isinstance(limit, bool):
            raise TypeError('limit must be an int')
        after = 'null' if start_after is None else _quote(_need_str('start_after', start_after))
        pairs = _call('{"op":"list"' + self._head + '"prefix":' + _quote(_need_str('prefix', prefix)) +
                      ',"limit":' + int.__repr__(limit) + ',"startAfter":' + after + '}')
        return [(k, v) for k, v in pairs]


class Buckets:
    __slots__ = ()

    def getBucket(self, name):
        return Bucket(name)

    def __getitem__(self, name):
        return Bucket(name)


BUCKETS = Buckets()


def script_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level != 0 or type(name) is not str or name not in _ALLOWED:
        raise ImportError('import of %r is not allowed in a script' % (name,))
    return _real_import(name, globals, locals, fromlist, 0)


def script_print(*values, sep=' ', end='\n', file=None, flush=False):
    run = _run
    text = (' ' if sep is None else str(sep)).join([str(v) for v in values]) + ('\n' if end is None else str(end))
    if text.endswith('\n'):
        text = text[:-1]
    run[1] += len(text.encode('utf-8', 'surrogatepass')) + 1
    if run[1] > run[2]:
        run[3] = True
        raise _Limit('logs exceed %d bytes' % run[2])
    run[0].append(text)
