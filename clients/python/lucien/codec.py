"""JSON in and out of the wire format.

Python's json keeps integers as ints of any size and prints floats with a
round-tripping repr, so 2**53 + 1 and 0.5 come back exactly; nothing here may
go through float for integers. Validation of objects-only belongs to the
server (one place); the client only refuses what it cannot encode at all.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import invalid_argument
from .types import ValueInput


def encode_value(value: ValueInput) -> str:
    """A dict (or any JSON-able value) is dumped; str/bytes are taken as JSON text, unchanged.

    Text is not re-parsed: the server validates it and answers INVALID_ARGUMENT
    for invalid JSON or a non-object, so the rules live in one place.
    """
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise invalid_argument(f"value is not UTF-8: {exc}") from None
    if isinstance(value, str):
        return value
    return dump(value, "value")


def encode_args(args: Any) -> str:
    """Script arguments: None means []; a list/tuple is dumped; a str must be JSON text of an array.

    A plain string is never taken as one argument: ``run(name, "post_1")``
    raises InvalidArgument saying to pass ``["post_1"]``, because a string is
    also how JSON text of the arguments is given (``'["post_1"]'``), and
    guessing between the two would silently run with the wrong arguments.
    """
    if args is None:
        return "[]"
    if isinstance(args, bytes):
        try:
            args = args.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise invalid_argument(f"args is not UTF-8: {exc}") from None
    if isinstance(args, str):
        try:
            parsed = json.loads(args)
        except ValueError:
            parsed = None
        if not isinstance(parsed, list):
            raise invalid_argument(
                f"args must be a list such as [{args!r:.40}] (or JSON text of an array such as '[\"post_1\"]'); got the string {args!r:.60}"
            )
        return args
    if isinstance(args, tuple):
        args = list(args)
    if not isinstance(args, list):
        raise invalid_argument(f"args must be a list (or None for no arguments), not {type(args).__name__}")
    return dump(args, "args")


def dump(obj: Any, what: str) -> str:
    """Compact JSON; NaN/Infinity and unknown types are refused before sending."""
    try:
        return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise invalid_argument(f"{what} is not JSON-serializable: {exc}") from None


def decode(text: str) -> Any:
    """JSON text from the server to a Python value.

    '' means None: keys-only listings, deletes in watch events and script
    writes carry no value.
    """
    if text == "":
        return None
    return json.loads(text)

