"""QBO JSON in and out with exact money: parse fractions as `Decimal`, write `Decimal` as its exact digits.

The standard encoder cannot write a Decimal as a JSON number (it refuses, or goes through float), and
`Decimal("119.60")` must reach QuickBooks as `119.60`, never `119.6` or `119.59999…`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

__all__ = ["dumps", "loads"]

_encode_str: Callable[[str], str] = json.encoder.encode_basestring_ascii


def loads(body: bytes | str) -> Any:
    """Parse QBO JSON with every fractional number as `Decimal` (`119.60` stays `119.60`)."""
    return json.loads(body, parse_float=Decimal)


def _dump(obj: Any, out: list[str]) -> None:
    if isinstance(obj, str):
        out.append(_encode_str(obj))
    elif obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, int):
        out.append(str(int(obj)))
    elif isinstance(obj, Decimal):
        if not obj.is_finite():
            raise ValueError(f"cannot send a non-finite number to QuickBooks: {obj}")
        out.append(format(obj, "f"))
    elif isinstance(obj, float):
        # Only rates and quantities should ever be floats; write them as Python's shortest repr.
        if obj != obj or obj in (float("inf"), float("-inf")):
            raise ValueError(f"cannot send a non-finite number to QuickBooks: {obj}")
        out.append(repr(obj))
    elif isinstance(obj, Mapping):
        out.append("{")
        for i, (key, value) in enumerate(obj.items()):
            if i:
                out.append(",")
            out.append(_encode_str(str(key)))
            out.append(":")
            _dump(value, out)
        out.append("}")
    elif isinstance(obj, list | tuple):
        out.append("[")
        for i, value in enumerate(obj):
            if i:
                out.append(",")
            _dump(value, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(obj).__name__} as QBO JSON")


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes; a `Decimal` is written with exactly its digits (`Decimal("50.00")` → `50.00`)."""
    out: list[str] = []
    _dump(obj, out)
    return "".join(out).encode("ascii")
