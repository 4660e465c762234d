"""Plain data returned by (and passed to) the client.

Values are already decoded Python objects here; the JSON text of the wire
format never leaks past lucien.codec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union

JSONObject = Dict[str, Any]
#: A value as callers may pass it: a dict, or JSON text of an object.
ValueInput = Union[JSONObject, str, bytes]


@dataclass(frozen=True)
class Versioned:
    """A value with the revisions that created and last modified its key."""

    value: JSONObject
    create_revision: int
    mod_revision: int


@dataclass(frozen=True)
class Item:
    """One key of a List page; ``value`` is None when listing keys only."""

    key: str
    value: Optional[JSONObject]
    create_revision: int
    mod_revision: int


@dataclass(frozen=True)
class Entry:
    """One answer of a BatchGet; ``value`` is None when the key is missing."""

    bucket: str
    key: str
    found: bool
    value: Optional[JSONObject]
    create_revision: int
    mod_revision: int


@dataclass(frozen=True)
class BatchGetResult:
    """All entries of a BatchGet, read at one snapshot ``revision``."""

    revision: int
    entries: List[Entry]


@dataclass(frozen=True)
class PutOp:
    """A put inside ``Client.batch``; ``if_revision`` 0 means "only if absent"."""

    bucket: str
    key: str
    value: ValueInput
    if_revision: Optional[int] = None


@dataclass(frozen=True)
class DeleteOp:
    """A delete inside ``Client.batch``."""

    bucket: str
    key: str
    if_revision: Optional[int] = None


@dataclass(frozen=True)
class Script:
    """A registered stored procedure."""

    name: str
    engine: str
    source: str
    description: str
    revision: int


@dataclass(frozen=True)
class Write:
    """A write a script made (or, in a dry run, would have made)."""

    bucket: str
    key: str
    value: Optional[JSONObject]
    deleted: bool


@dataclass(frozen=True)
class RunResult:
    """Everything a Run answers: the result plus logs, commit revision, writes and attempts."""

    result: Any
    logs: List[str] = field(default_factory=list)
    revision: int = 0
    writes: List[Write] = field(default_factory=list)
    attempts: int = 0


@dataclass(frozen=True)
class WatchEvent:
    """One change in a watched bucket; ``type`` is "PUT" or "DELETE"."""

    type: str
    bucket: str
    key: str
    value: Optional[JSONObject]
    revision: int


@dataclass(frozen=True)
class TLS:
    """TLS settings; all paths are PEM files.

    ``ca_cert`` verifies the server (system roots when None); ``client_cert`` and
    ``client_key`` together enable mutual TLS; ``server_name`` overrides the
    name checked in the server certificate (e.g. when dialing an IP address).
    """

    ca_cert: Optional[str] = None
    client_cert: Optional[str] = None
    client_key: Optional[str] = None
    server_name: Optional[str] = None
