"""Request messages, built so that bad text fails like the server would fail it.

protobuf encodes string fields as UTF-8, which has no form for a lone
surrogate (``"\\ud800"``): building such a message raises UnicodeEncodeError
deep inside protobuf. Here it becomes the InvalidArgument the server would
have answered (INVALID_KEY for a key, INVALID_BUCKET for a bucket, and so
on), naming the field, before anything is sent.
"""

from __future__ import annotations

from typing import Any, Callable

from ._proto import lucien_pb2
from .errors import invalid_argument

_FIELD_CODES = {"key": "INVALID_KEY", "bucket": "INVALID_BUCKET", "value": "INVALID_VALUE"}


def _bad_field(fields: dict) -> str:
    for name, value in fields.items():
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return name
    return ""


class _Messages:
    """Attribute access like the generated module: ``pb.GetRequest(bucket=..., key=...)``."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        cls = getattr(lucien_pb2, name)

        def build(*args: Any, **fields: Any) -> Any:
            try:
                return cls(*args, **fields)
            except UnicodeEncodeError:
                field = _bad_field(fields) or "a field"
                raise invalid_argument(
                    f"{field} is not valid Unicode (lone surrogate)", _FIELD_CODES.get(field, "INVALID_ARGUMENT")
                ) from None

        return build


pb = _Messages()
