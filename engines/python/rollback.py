"""Rolling the interpreter back between runs of one script (python-engine.ts
runs this file in the sandbox's own namespace, after sandbox.py, so it shares
its private builtins). `_lucien_rollback` takes the snapshot that
state-watch.ts watches: every module dict, the API's namespace and builtins,
each object's __dict__ one level down, with classes frozen first; and returns
the restore() and release() that put back what the watcher saw change.

Between runs of different scripts the engine restores the whole of wasm memory
instead (memory-image.ts), which covers everything this does not.

Must never run a script's code with the audit hook off: restore() keeps what it
takes out alive until release(), which lets go of it with the hook on.
"""


def _lucien_rollback(hook, HOOK_ON, HOOK_RESTORING, finish, spaces, skip):
    """hook: the audit hook's mode cell; finish: resets interpreter settings;
    spaces: namespaces besides the modules' to watch; skip: ids never watched."""
    import sys, json, types, gc
    FunctionType = types.FunctionType

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
    # nothing pays nothing here. This is the cheap rollback between runs of
    # one script; between runs of different scripts the engine restores the
    # whole of wasm memory (memory-image.ts), which covers everything else.
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

    spaces_extra = spaces

    def take_snapshot():
        saved_classes.extend((c, dict(c.__dict__)) for c in freeze_classes())
        modules = [o for o in gc.get_objects() if type(o) is types.ModuleType]
        # Drop the JavaScript objects Pyodide's own modules still hold (e.g.
        # webloop's scheduler), so no module dict leads to JavaScript.
        for m in modules:
            d = m.__dict__
            for k in [k for k, v in d.items() if not isinstance(v, type) and type(type(v)).__name__ == '_JsProxyMetaClass']:
                del d[k]
        spaces = [m.__dict__ for m in modules] + list(spaces_extra)
        seen = set(skip)
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
        text = json.dumps(plan)
        # From here on, the hook never goes off again.
        hook[0] = HOOK_ON
        return text

    def restore_contents(obj, snap):
        # Nothing that dies here may run code now: keep it alive until release().
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
        hook[0] = HOOK_RESTORING
        try:
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
        finally:
            hook[0] = HOOK_ON
            finish()

    def release():
        """Lets go of what restore() took out. Finalizers may run, audited, and
        whatever they change the watcher sees (the engine then restores again)."""
        try:
            dropped.clear()
        finally:
            finish()

    return take_snapshot, restore, release
