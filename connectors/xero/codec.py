"""Xero JSON in and out with exact money, and Xero's dates.

Fractions parse as `Decimal`; a `Decimal` is written as exactly its digits (`Decimal("20.00")` goes as
`20.00`, never through a float). Xero writes dates as `/Date(1539993600000+0000)/` (milliseconds since the
epoch, with an offset that is informative only) and accepts ISO dates (`2026-03-11`) in requests.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

__all__ = ["dumps", "loads", "parse_date", "parse_datetime"]

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def loads(body: bytes | str) -> Any:
    """Parse Xero JSON with every fractional number as `Decimal`."""
    return json.loads(body, parse_float=Decimal)


def _marked(obj: Any, marks: dict[str, str], nonce: str) -> Any:
    if isinstance(obj, Decimal):
        if not obj.is_finite():
            raise ValueError(f"cannot send a non-finite amount to Xero: {obj}")
        mark = f"{nonce}{len(marks)}"
        marks[mark] = format(obj, "f")
        return mark
    if isinstance(obj, float):
        raise TypeError("money goes to Xero as Decimal, never float")
    if isinstance(obj, Mapping):
        return {str(k): _marked(v, marks, nonce) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_marked(v, marks, nonce) for v in obj]
    if isinstance(obj, date):
        return obj.isoformat()
    return obj


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes; each `Decimal` is written with exactly its digits, dates as ISO text."""
    marks: dict[str, str] = {}
    nonce = f"@xero-decimal-{secrets.token_hex(8)}-"
    text = json.dumps(_marked(obj, marks, nonce), separators=(",", ":"), ensure_ascii=True)
    # The nonce is random per call: no string of the payload can carry it by chance.
    text = re.sub(re.escape(f'"{nonce}') + r'(\d+)"', lambda m: marks[f"{nonce}{m.group(1)}"], text)
    return text.encode("ascii")


def parse_datetime(value: Any) -> datetime | None:
    """A Xero instant (`/Date(ms+0000)/` or ISO text) as an aware UTC datetime; None when absent."""
    if value in (None, ""):
        return None
    text = str(value)
    found = _MS_DATE.match(text)
    if found:
        return datetime.fromtimestamp(int(found.group(1)) / 1000, UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_date(value: Any) -> date | None:
    """A Xero date (`/Date(ms+0000)/`, `2019-03-11` or `2019-03-11T00:00:00`); None when absent."""
    instant = parse_datetime(value)
    return instant.date() if instant else None
