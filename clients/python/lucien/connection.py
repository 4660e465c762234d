"""The channel, credentials and per-call plumbing shared by every Client method.

Kept apart from client.py so the API file reads as the contract: here is only
how a call is sent (token metadata, deadline, error translation).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

import grpc

from ._proto import lucien_pb2_grpc
from .errors import from_rpc_error, invalid_argument
from .types import TLS

TLSInput = Union[None, bool, TLS, Mapping[str, Optional[str]]]

# Values are up to 1 MiB and script results can be larger than a value; leave
# room above grpc's 4 MiB default receive limit.
_MAX_MESSAGE = 64 * 1024 * 1024


def _read(path: Optional[str]) -> Optional[bytes]:
    if path is None:
        return None
    with open(path, "rb") as f:
        return f.read()


def _resolve_tls(tls: TLSInput) -> Optional[TLS]:
    if tls is None or tls is False:
        return None
    if tls is True:
        return TLS()
    if isinstance(tls, TLS):
        return tls
    if isinstance(tls, Mapping):
        unknown = set(tls) - {"ca_cert", "client_cert", "client_key", "server_name"}
        if unknown:
            raise invalid_argument(f"unknown TLS options: {sorted(unknown)}")
        return TLS(**tls)  # type: ignore[arg-type]
    raise invalid_argument("tls must be None, True, a lucien.TLS or a dict")


class Connection:
    """One gRPC channel plus the metadata and deadline every call carries."""

    def __init__(self, target: str, token: Optional[str], tls: TLSInput, timeout: Optional[float]) -> None:
        options: List[Tuple[str, Any]] = [
            ("grpc.max_receive_message_length", _MAX_MESSAGE),
            ("grpc.max_send_message_length", _MAX_MESSAGE),
            # Reconnect soon after a server comes back (a resuming Watch waits on this).
            ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", 5000),
        ]
        resolved = _resolve_tls(tls)
        if resolved is None:
            self.channel = grpc.insecure_channel(target, options=options)
        else:
            if (resolved.client_cert is None) != (resolved.client_key is None):
                raise invalid_argument("TLS client_cert and client_key go together")
            creds = grpc.ssl_channel_credentials(
                root_certificates=_read(resolved.ca_cert),
                private_key=_read(resolved.client_key),
                certificate_chain=_read(resolved.client_cert),
            )
            if resolved.server_name:
                options.append(("grpc.ssl_target_name_override", resolved.server_name))
            self.channel = grpc.secure_channel(target, creds, options=options)
        self.stub = lucien_pb2_grpc.LucienStub(self.channel)
        self.timeout = timeout
        # Sent as plain metadata (not call credentials) so a token also works
        # over a plaintext loopback connection, like redis-cli -a.
        self.metadata: Tuple[Tuple[str, str], ...] = (("authorization", f"Bearer {token}"),) if token else ()

    def call(self, method: str, request: Any, timeout: Optional[float] = None) -> Any:
        """Send one unary call; any gRPC failure becomes a LucienError.

        ``timeout`` (seconds) overrides the client's default for this call.
        """
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
            raise invalid_argument(f"timeout must be a number of seconds > 0, not {timeout!r:.40}")
        rpc: Callable[..., Any] = getattr(self.stub, method)
        try:
            return rpc(request, timeout=self._timeout(timeout), metadata=self.metadata)
        except grpc.RpcError as err:
            raise from_rpc_error(err) from None

    def stream(self, method: str, request: Any) -> Any:
        """Open a server stream (no deadline: a watch lives until cancelled)."""
        rpc: Callable[..., Any] = getattr(self.stub, method)
        return rpc(request, metadata=self.metadata)

    def _timeout(self, timeout: Optional[float]) -> Optional[float]:
        return timeout if timeout is not None else self.timeout

    def close(self) -> None:
        self.channel.close()


def optional_fields(**fields: Optional[Any]) -> Dict[str, Any]:
    """Drop None so proto3 `optional` fields stay unset (0 is a real value)."""
    return {k: v for k, v in fields.items() if v is not None}
