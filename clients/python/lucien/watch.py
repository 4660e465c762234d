"""The iterator behind ``Client.watch``.

A gRPC server stream raises grpc.RpcError mid-iteration; this wrapper turns
that into LucienError, makes ``cancel()`` end the iteration quietly instead
of surfacing the CANCELLED status the caller asked for, and (with resume)
reopens a stream that dropped (UNAVAILABLE: a restart, a network blip) from
the revision after the last event it delivered, with back-off, so no event
is lost or repeated. Other failures (COMPACTED, auth, bad bucket) end it.
"""

from __future__ import annotations

import random
import threading
from typing import Any, Callable, Iterator, Optional

import grpc

from . import codec
from ._proto import lucien_pb2 as pb
from .errors import from_rpc_error
from .types import WatchEvent

_TYPES = {pb.WatchEvent.PUT: "PUT", pb.WatchEvent.DELETE: "DELETE"}
_RESUMABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL}


class Watch:
    """An iterator of WatchEvent; use as a context manager or call cancel() to stop."""

    def __init__(self, open_from: Callable[[int], Any], start_revision: int, resume: bool = True) -> None:
        self._open_from = open_from
        self._next_revision = start_revision
        self._resume = resume
        self._cancelled = threading.Event()
        self._failures = 0
        self.reconnects = 0
        """How many times the stream was reopened after a disconnect."""
        self._call = open_from(start_revision)

    @property
    def next_revision(self) -> int:
        """The revision the next event will have at least (where a resume starts)."""
        return self._next_revision

    def __iter__(self) -> Iterator[WatchEvent]:
        return self

    def __next__(self) -> WatchEvent:
        while True:
            if self._cancelled.is_set():
                raise StopIteration
            try:
                event = next(self._call)
            except StopIteration:
                if self._cancelled.is_set() or not self._resume:
                    raise
                self._reopen()  # the server ended the stream (e.g. shutting down): resume
                continue
            except grpc.RpcError as err:
                code = err.code()  # type: ignore[attr-defined]
                if self._cancelled.is_set() and code == grpc.StatusCode.CANCELLED:
                    raise StopIteration from None
                if self._resume and code in _RESUMABLE:
                    self._reopen()
                    continue
                raise from_rpc_error(err) from None
            self._failures = 0
            self._next_revision = int(event.revision) + 1
            return WatchEvent(
                type=_TYPES.get(event.type, str(event.type)),
                bucket=event.bucket,
                key=event.key,
                value=codec.decode(event.value),
                revision=event.revision,
            )

    def _reopen(self) -> None:
        self._failures += 1
        delay = random.uniform(0, min(2.0, 0.05 * 2 ** min(self._failures, 6)))
        if self._cancelled.wait(delay):
            return
        self.reconnects += 1
        self._call = self._open_from(self._next_revision)

    def cancel(self) -> None:
        """Stop watching; a pending or later next() ends the iteration."""
        self._cancelled.set()
        self._call.cancel()

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc: Optional[object]) -> None:
        self.cancel()
