"""The iterator behind ``Client.watch``.

A gRPC server stream raises grpc.RpcError mid-iteration; this wrapper turns
that into LucienError, and makes ``cancel()`` end the iteration quietly
instead of surfacing the CANCELLED status the caller asked for.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional

import grpc

from . import codec
from ._proto import lucien_pb2 as pb
from .errors import from_rpc_error
from .types import WatchEvent

_TYPES = {pb.WatchEvent.PUT: "PUT", pb.WatchEvent.DELETE: "DELETE"}


class Watch:
    """An iterator of WatchEvent; use as a context manager or call cancel() to stop."""

    def __init__(self, call: Any) -> None:
        self._call = call
        self._cancelled = False

    def __iter__(self) -> Iterator[WatchEvent]:
        return self

    def __next__(self) -> WatchEvent:
        try:
            event = next(self._call)
        except grpc.RpcError as err:
            if self._cancelled and err.code() == grpc.StatusCode.CANCELLED:  # type: ignore[attr-defined]
                raise StopIteration from None
            raise from_rpc_error(err) from None
        return WatchEvent(
            type=_TYPES.get(event.type, str(event.type)),
            bucket=event.bucket,
            key=event.key,
            value=codec.decode(event.value),
            revision=event.revision,
        )

    def cancel(self) -> None:
        """Stop watching; a pending or later next() ends the iteration."""
        self._cancelled = True
        self._call.cancel()

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc: Optional[object]) -> None:
        self.cancel()
