"""The Lucien client: one method per rpc of lucien.v1.Lucien, in Python terms.

The seed's calls keep their shape (put/get/delete/list/put_script/run) and
return plain Python values; the ``*_full`` variants return the revisions and
metadata the seed never had. Every failure raises a LucienError.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, List, Literal, Optional, Sequence, Tuple, Union, overload

from . import codec
from .messages import pb
from .connection import Connection, TLSInput, optional_fields
from .errors import NotFound, invalid_argument
from .types import (
    BatchGetResult,
    DeleteOp,
    Entry,
    Item,
    JSONObject,
    PutOp,
    RunResult,
    Script,
    ValueInput,
    Versioned,
    Write,
)
from .watch import Watch

KeyRef = Tuple[str, str]


class Client:
    """A connection to one Lucien server.

    ``Client("127.0.0.1:50051", token=None, tls=None, timeout=None)``:
    ``token`` is sent as ``authorization: Bearer <token>``; ``tls`` is None
    (plaintext), True (system roots) or a lucien.TLS / dict of PEM paths;
    ``timeout`` is the default deadline in seconds for each call.
    Use it as a context manager, or call close().
    """

    def __init__(
        self,
        target: str = "127.0.0.1:50051",
        token: Optional[str] = None,
        tls: TLSInput = None,
        timeout: Optional[float] = None,
    ) -> None:
        self._conn = Connection(target, token, tls, timeout)

    def close(self) -> None:
        """Close the channel; open watches end."""
        self._conn.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- key-value ---------------------------------------------------------

    def put(self, bucket: str, key: str, value: ValueInput, if_revision: Optional[int] = None, *,
            timeout: Optional[float] = None) -> int:
        """Store ``value`` (a dict, or JSON text of an object) and return the new revision.

        ``if_revision=0`` writes only if the key is absent; ``n > 0`` only if
        the key's mod_revision is n; otherwise ConditionFailed is raised.
        """
        req = pb.PutRequest(bucket=bucket, key=key, value=codec.encode_value(value), **optional_fields(if_revision=if_revision))
        return int(self._conn.call("Put", req, timeout).revision)

    def get(self, bucket: str, key: str, *, timeout: Optional[float] = None) -> Optional[JSONObject]:
        """The value as a dict, or None when the key does not exist."""
        found = self.get_full(bucket, key, timeout=timeout)
        return None if found is None else found.value

    def get_full(self, bucket: str, key: str, *, timeout: Optional[float] = None) -> Optional[Versioned]:
        """The value with its create/mod revisions, or None when missing."""
        try:
            res = self._conn.call("Get", pb.GetRequest(bucket=bucket, key=key), timeout)
        except NotFound:
            return None
        return Versioned(codec.decode(res.value), int(res.create_revision), int(res.mod_revision))

    def delete(self, bucket: str, key: str, if_revision: Optional[int] = None, *,
               timeout: Optional[float] = None) -> bool:
        """Delete a key; True if it existed. A missing key is not an error."""
        req = pb.DeleteRequest(bucket=bucket, key=key, **optional_fields(if_revision=if_revision))
        return bool(self._conn.call("Delete", req, timeout).deleted)

    @overload
    def list(self, bucket: str, prefix: str = ..., *, start_after: str = ..., limit: Optional[int] = ...,
             keys_only: Literal[False] = ..., page_size: Optional[int] = ...,
             timeout: Optional[float] = ...) -> List[Tuple[str, JSONObject]]: ...

    @overload
    def list(self, bucket: str, prefix: str = ..., *, start_after: str = ..., limit: Optional[int] = ...,
             keys_only: Literal[True], page_size: Optional[int] = ...,
             timeout: Optional[float] = ...) -> List[str]: ...

    def list(
        self,
        bucket: str,
        prefix: str = "",
        *,
        start_after: str = "",
        limit: Optional[int] = None,
        keys_only: bool = False,
        page_size: Optional[int] = None,
        timeout: Optional[float] = None,
    ) -> Union[List[Tuple[str, JSONObject]], List[str]]:
        """All (key, value) pairs under ``prefix``, in key order, across every page.

        ``limit`` caps the total; ``keys_only=True`` returns just the keys.
        See iter_items for a lazy version with revisions.
        """
        items = self.iter_items(bucket, prefix, start_after=start_after, limit=limit,
                                keys_only=keys_only, page_size=page_size, timeout=timeout)
        if keys_only:
            return [item.key for item in items]
        return [(item.key, item.value if item.value is not None else {}) for item in items]

    def iter_items(
        self,
        bucket: str,
        prefix: str = "",
        *,
        start_after: str = "",
        limit: Optional[int] = None,
        keys_only: bool = False,
        page_size: Optional[int] = None,
        timeout: Optional[float] = None,
    ) -> Iterator[Item]:
        """Lazily page through a bucket; each page is one List call of ``page_size`` keys
        (the server's default of 100 when None, at most 1000)."""
        for name, value in (("limit", limit), ("page_size", page_size)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise invalid_argument(f"{name} must be an int >= 0 (or None), not {value!r:.40}")
        remaining = limit
        token = ""
        while remaining is None or remaining > 0:
            want = page_size or 0
            if remaining is not None:
                want = min(remaining, page_size or 1000)
            req = pb.ListRequest(bucket=bucket, prefix=prefix, limit=want, keys_only=keys_only,
                                 start_after="" if token else start_after, page_token=token)
            page = self._conn.call("List", req, timeout)
            for it in page.items:
                yield Item(it.key, codec.decode(it.value), int(it.create_revision), int(it.mod_revision))
            if remaining is not None:
                remaining -= len(page.items)
            token = page.next_page_token
            if not token:
                return

    def batch_get(self, refs: Iterable[KeyRef], *, timeout: Optional[float] = None) -> List[Optional[JSONObject]]:
        """Values of several (bucket, key) pairs from one snapshot, None where missing."""
        return [e.value for e in self.batch_get_full(refs, timeout=timeout).entries]

    def batch_get_full(self, refs: Iterable[KeyRef], *, timeout: Optional[float] = None) -> BatchGetResult:
        """Entries (found flag, value, revisions) and the snapshot revision they were read at."""
        req = pb.BatchGetRequest(keys=[pb.KeyRef(bucket=b, key=k) for b, k in _refs(refs)])
        res = self._conn.call("BatchGet", req, timeout)
        entries = [
            Entry(e.bucket, e.key, e.found, codec.decode(e.value) if e.found else None,
                  int(e.create_revision), int(e.mod_revision))
            for e in res.entries
        ]
        return BatchGetResult(int(res.revision), entries)

    def batch(self, ops: Sequence[Union[PutOp, DeleteOp]], *, timeout: Optional[float] = None) -> int:
        """Apply puts and deletes atomically (all or nothing); returns the commit revision.

        If any op's ``if_revision`` fails, ConditionFailed is raised and nothing is written.
        """
        if isinstance(ops, (str, bytes, dict)) or not isinstance(ops, Iterable):
            raise invalid_argument(f"ops must be a list of lucien.PutOp / lucien.DeleteOp, not {type(ops).__name__}")
        return int(self._conn.call("Batch", pb.BatchRequest(ops=[_op(o) for o in ops]), timeout).revision)

    def list_buckets(self, *, timeout: Optional[float] = None) -> List[str]:
        """Names of the buckets that hold at least one key."""
        return list(self._conn.call("ListBuckets", pb.ListBucketsRequest(), timeout).buckets)

    # -- scripts -----------------------------------------------------------

    def put_script(self, name: str, source: str, engine: str = "python", description: str = "",
                   if_revision: Optional[int] = None, *, timeout: Optional[float] = None) -> int:
        """Register (compile and store) a script; returns its revision.

        A syntax error raises ScriptSyntaxError (INVALID_ARGUMENT) naming the line.
        """
        req = pb.PutScriptRequest(name=name, engine=engine, source=source, description=description,
                                  **optional_fields(if_revision=if_revision))
        return int(self._conn.call("PutScript", req, timeout).revision)

    def get_script(self, name: str, *, timeout: Optional[float] = None) -> Optional[Script]:
        """The script, or None when no script has that name."""
        try:
            return _script(self._conn.call("GetScript", pb.GetScriptRequest(name=name), timeout))
        except NotFound:
            return None

    def list_scripts(self, *, timeout: Optional[float] = None) -> List[Script]:
        """Every registered script."""
        return [_script(s) for s in self._conn.call("ListScripts", pb.ListScriptsRequest(), timeout).scripts]

    def delete_script(self, name: str, *, timeout: Optional[float] = None) -> bool:
        """Remove a script; True if it existed."""
        return bool(self._conn.call("DeleteScript", pb.DeleteScriptRequest(name=name), timeout).deleted)

    def run(self, name: str, args: Any = None, *, dry_run: bool = False, timeout_ms: Optional[int] = None,
            timeout: Optional[float] = None) -> Any:
        """Run a script with ``args`` (a list; None means []) and return its ``result``.

        ``args`` is a list of arguments, or JSON text of an array. A plain
        string such as ``"post_1"`` raises InvalidArgument: pass ``["post_1"]``.
        """
        return self.run_full(name, args, dry_run=dry_run, timeout_ms=timeout_ms, timeout=timeout).result

    def run_full(self, name: str, args: Any = None, *, dry_run: bool = False,
                 timeout_ms: Optional[int] = None, timeout: Optional[float] = None) -> RunResult:
        """Run a script and return result, logs, commit revision, writes and attempts.

        ``dry_run`` commits nothing and reports the writes the run would make;
        ``timeout_ms`` asks for a script time limit (capped by the server).
        A script that raises gives ScriptError with ``.logs``.
        """
        req = pb.RunRequest(name=name, args=codec.encode_args(args), dry_run=dry_run, timeout_ms=timeout_ms or 0)
        return _run_result(self._conn.call("Run", req, timeout))

    def eval(self, source: str, args: Any = None, *, engine: str = "python", commit: bool = False,
             timeout_ms: Optional[int] = None, timeout: Optional[float] = None) -> RunResult:
        """Run ``source`` without registering it (admin role), as Redis EVAL does.

        A dry run unless ``commit=True``: the result comes back with the writes
        the run would make. Same sandbox, limits and errors as run().
        """
        req = pb.EvalRequest(engine=engine, source=source, args=codec.encode_args(args), commit=commit,
                             timeout_ms=timeout_ms or 0)
        return _run_result(self._conn.call("Eval", req, timeout))

    # -- watch -------------------------------------------------------------

    def current_revision(self, *, timeout: Optional[float] = None) -> int:
        """The store's current revision (a BatchGet of no keys)."""
        return self.batch_get_full([], timeout=timeout).revision

    def watch(self, bucket: str, prefix: str = "", start_revision: int = 0, *, resume: bool = True) -> Watch:
        """Stream changes under ``prefix`` from ``start_revision`` (0: from now on).

        Iterate the returned Watch for WatchEvents; cancel() or leaving its
        ``with`` block stops it. With ``resume`` (the default), a dropped
        connection (UNAVAILABLE, e.g. a server restart) is reopened from the
        revision after the last event delivered, so nothing is lost or repeated;
        "from now on" is pinned to the current revision first for that reason.
        """
        pb.WatchRequest(bucket=bucket, prefix=prefix, start_revision=start_revision)  # type checks
        first = start_revision if start_revision > 0 else self.current_revision() + 1

        def open_from(revision: int) -> Any:
            return self._conn.stream("Watch", pb.WatchRequest(bucket=bucket, prefix=prefix, start_revision=revision))

        return Watch(open_from, first, resume)


def _op(op: Union[PutOp, DeleteOp]) -> Any:
    if isinstance(op, PutOp):
        return pb.Op(put=pb.PutRequest(bucket=op.bucket, key=op.key, value=codec.encode_value(op.value),
                                       **optional_fields(if_revision=op.if_revision)))
    if isinstance(op, DeleteOp):
        return pb.Op(delete=pb.DeleteRequest(bucket=op.bucket, key=op.key,
                                             **optional_fields(if_revision=op.if_revision)))
    raise invalid_argument(f"batch ops must be lucien.PutOp or lucien.DeleteOp, not {type(op).__name__}")


def _refs(refs: Iterable[KeyRef]) -> List[KeyRef]:
    if isinstance(refs, (str, bytes, dict)) or not isinstance(refs, Iterable):
        raise invalid_argument(f"refs must be a list of (bucket, key) pairs, not {type(refs).__name__}")
    out: List[KeyRef] = []
    for i, ref in enumerate(refs):
        if not isinstance(ref, (tuple, list)) or len(ref) != 2:
            raise invalid_argument(f"refs[{i}] must be a (bucket, key) pair, not {ref!r:.60}")
        out.append((ref[0], ref[1]))
    return out


def _run_result(res: Any) -> RunResult:
    writes = [Write(w.bucket, w.key, None if w.deleted else codec.decode(w.value), w.deleted) for w in res.writes]
    return RunResult(codec.decode(res.result), list(res.logs), int(res.revision), writes, int(res.attempts))


def _script(s: Any) -> Script:
    return Script(s.name, s.engine, s.source, s.description, int(s.revision))

