"""Errors raised by the Lucien client.

Every failed call raises a LucienError. The server sends a stable code in the
trailer ``lucien-error-code`` (NOT_FOUND, CONDITION_FAILED, SCRIPT_ERROR, ...),
so callers can decide by ``error_code`` (or by subclass) instead of parsing
messages; ``code`` is the gRPC status for callers who think in gRPC terms.
"""

from __future__ import annotations

import json
from typing import Dict, List, Optional, Sequence, Tuple, Type, Union

import grpc

ERROR_CODE_TRAILER = "lucien-error-code"
SCRIPT_LOGS_TRAILER = "lucien-script-logs"
SCRIPT_LINE_TRAILER = "lucien-script-line"
REQUEST_ID_TRAILER = "lucien-request-id"

MetadataValue = Union[str, bytes]


class LucienError(Exception):
    """A call to the server failed.

    Attributes:
        code: the gRPC status (``grpc.StatusCode``).
        details: the server's message (script errors name the exception type,
            its message and the script line).
        error_code: the server's stable Lucien code from the
            ``lucien-error-code`` trailer, or None when it sent none (for
            example a deadline that expired on the client side).
        logs: for script failures, the lines the script printed before it
            failed (from the ``lucien-script-logs`` trailer); otherwise [].
        line: for script errors, the script line the server reported, if any.
        request_id: the server's id for this call, to find it in the server log.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        details: str,
        error_code: Optional[str] = None,
        logs: Optional[List[str]] = None,
        line: Optional[int] = None,
        request_id: Optional[str] = None,
    ) -> None:
        super().__init__(f"{code.name}: {details}" + (f" [{error_code}]" if error_code else ""))
        self.code = code
        self.details = details
        self.error_code = error_code
        self.logs: List[str] = list(logs or [])
        self.line = line
        self.request_id = request_id

    @property
    def message(self) -> str:
        """The server's message (alias of ``details``)."""
        return self.details


class InvalidArgument(LucienError):
    """Bad bucket name, key, JSON value, script args or script syntax."""


class ScriptSyntaxError(InvalidArgument):
    """A script did not compile when registered; the message names the line."""


class NotFound(LucienError):
    """Missing key or script (``get`` returns None instead of raising this)."""


class ConditionFailed(LucienError):
    """An ``if_revision`` condition did not hold; nothing was written."""


class Aborted(LucienError):
    """A script run kept conflicting with concurrent commits; safe to retry."""


class DeadlineExceeded(LucienError):
    """The script time limit or the client's deadline expired."""


class ResourceExhausted(LucienError):
    """A script hit a memory, result, log or write-set limit."""


class ScriptError(LucienError):
    """The script raised; ``details`` carries the exception and line, ``logs`` its output."""


class Unauthenticated(LucienError):
    """No valid token was presented."""


class PermissionDenied(LucienError):
    """The token does not allow this call."""


class Unavailable(LucienError):
    """The server is unreachable, starting or closing; safe to retry."""


class Unimplemented(LucienError):
    """The server does not serve this rpc (yet)."""


class OutOfRange(LucienError):
    """A watch start revision is older than the server's retained history."""


# The server's stable code decides first: several codes share a gRPC status
# (SCRIPT_SYNTAX and INVALID_KEY are both INVALID_ARGUMENT).
_BY_ERROR_CODE: Dict[str, Type[LucienError]] = {
    "INVALID_BUCKET": InvalidArgument,
    "INVALID_KEY": InvalidArgument,
    "INVALID_VALUE": InvalidArgument,
    "INVALID_ARGUMENT": InvalidArgument,
    "SCRIPT_SYNTAX": ScriptSyntaxError,
    "NOT_FOUND": NotFound,
    "CONDITION_FAILED": ConditionFailed,
    "CONFLICT": Aborted,
    "COMPACTED": OutOfRange,
    "SCRIPT_ERROR": ScriptError,
    "SCRIPT_TIMEOUT": DeadlineExceeded,
    "SCRIPT_MEMORY": ResourceExhausted,
    "SCRIPT_LIMIT": ResourceExhausted,
    "UNAUTHENTICATED": Unauthenticated,
    "PERMISSION_DENIED": PermissionDenied,
    "UNAVAILABLE": Unavailable,
    "UNIMPLEMENTED": Unimplemented,
}

_BY_STATUS: Dict[grpc.StatusCode, Type[LucienError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.FAILED_PRECONDITION: ConditionFailed,
    grpc.StatusCode.ABORTED: Aborted,
    grpc.StatusCode.OUT_OF_RANGE: OutOfRange,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.UNIMPLEMENTED: Unimplemented,
}


def _text(value: MetadataValue) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _parse_logs(raw: str) -> List[str]:
    """The logs trailer is a JSON array of strings; anything else is kept as one line."""
    try:
        parsed = json.loads(raw)
    except ValueError:
        return [raw]
    if isinstance(parsed, list):
        return [p if isinstance(p, str) else json.dumps(p) for p in parsed]
    return [raw]


def from_rpc_error(err: grpc.RpcError) -> LucienError:
    """Turn a grpc.RpcError (which is also a grpc.Call) into the matching LucienError."""
    code: grpc.StatusCode = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN  # type: ignore[attr-defined]
    details: str = (err.details() if hasattr(err, "details") else None) or ""  # type: ignore[attr-defined]
    trailers: Sequence[Tuple[str, MetadataValue]] = ()
    if hasattr(err, "trailing_metadata"):
        trailers = err.trailing_metadata() or ()  # type: ignore[attr-defined]
    error_code: Optional[str] = None
    logs: List[str] = []
    line: Optional[int] = None
    request_id: Optional[str] = None
    for key, value in trailers:
        if key == ERROR_CODE_TRAILER:
            error_code = _text(value)
        elif key in (SCRIPT_LOGS_TRAILER, SCRIPT_LOGS_TRAILER + "-bin"):
            logs = _parse_logs(_text(value))
        elif key == SCRIPT_LINE_TRAILER and _text(value).isdigit():
            line = int(_text(value))
        elif key == REQUEST_ID_TRAILER:
            request_id = _text(value)
    cls = _BY_ERROR_CODE.get(error_code or "") or _BY_STATUS.get(code, LucienError)
    return cls(code, details, error_code, logs, line, request_id)


def invalid_argument(message: str, error_code: str = "INVALID_ARGUMENT") -> InvalidArgument:
    """An InvalidArgument raised on the client side, before anything is sent."""
    return InvalidArgument(grpc.StatusCode.INVALID_ARGUMENT, message, error_code)
