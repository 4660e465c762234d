"""Request messages, built so that a bad argument fails with the client's own error.

protobuf encodes string fields as UTF-8, which has no form for a lone
surrogate (``"\\ud800"``): building such a message raises UnicodeEncodeError
deep inside protobuf. Here it becomes the InvalidArgument the server would
have answered (INVALID_KEY for a key, INVALID_BUCKET for a bucket, and so
on), naming the field, before anything is sent. A value of the wrong type
(``client.put(1, "k", {})``, ``if_revision="5"``, a negative ``timeout_ms``)
makes protobuf raise TypeError or ValueError; that too becomes InvalidArgument
naming the field and the type it needs.
"""

from __future__ import annotations

from typing import Any, Callable

from ._proto import lucien_pb2
from .errors import invalid_argument

_FIELD_CODES = {"key": "INVALID_KEY", "bucket": "INVALID_BUCKET", "value": "INVALID_VALUE"}

# descriptor FieldDescriptor.TYPE_* -> (python check, what to say)
_TYPE_RULES = {
    9: (lambda v: isinstance(v, str), "a str"),  # string
    3: (lambda v: isinstance(v, int) and not isinstance(v, bool), "an int"),  # int64
    13: (lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**32, "an int from 0 to 2**32-1"),  # uint32
    8: (lambda v: isinstance(v, bool), "a bool"),  # bool
}


def _wrong_field(cls: Any, fields: dict) -> str:
    """'bucket must be a str, not int' for the first field protobuf would refuse."""
    for name, value in fields.items():
        field = cls.DESCRIPTOR.fields_by_name.get(name)
        if field is None:
            return f"unknown field {name!r}"
        if field.label == 3:  # repeated: checked element by element by the caller
            continue
        rule = _TYPE_RULES.get(field.type)
        if rule is not None and not rule[0](value):
            return f"{name} must be {rule[1]}, not {type(value).__name__} ({value!r:.60})"
    return ""


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
            except (TypeError, ValueError) as exc:
                reason = _wrong_field(cls, fields) or f"bad argument for {name}: {exc}"
                raise invalid_argument(reason) from None

        return build


pb = _Messages()
