"""The QBO wire format: JSON with exact number text, money rules, times in the company's offset, Fault bodies.

Money is a JSON number written with two decimals (`119.60`), except zero, which QBO writes as `0`.
Rates and quantities (`UnitPrice`, `Qty`, `ExchangeRate`, `TaxPercent`) are written as plain numbers (`10`,
`4.5`). Values live in the store as `Decimal` with the exponent they are to be written with, so the
encoder only has to print them; `normalize_numbers` applies the rules by key name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

__all__ = [
    "MONEY_KEYS",
    "PLAIN_KEYS",
    "QboFault",
    "api_time",
    "dumps",
    "fault_body",
    "loads",
    "meta_time",
    "money",
    "normalize_numbers",
    "parse_time",
    "plain",
    "webhook_time",
]

CENT = Decimal("0.01")
ZERO = Decimal(0)

# Keys whose numbers are money (two decimals, zero as 0), wherever they appear.
MONEY_KEYS = frozenset(
    {
        "Amount",
        "TotalAmt",
        "HomeTotalAmt",
        "Balance",
        "HomeBalance",
        "TotalTax",
        "NetAmountTaxable",
        "UnappliedAmt",
        "BalanceWithJobs",
        "CurrentBalance",
        "CurrentBalanceWithSubAccounts",
        "OpenBalance",
        "HomeAmount",
        "RemainingCredit",
        "TaxInclusiveAmt",
    }
)
# Keys whose numbers are written plainly, without trailing zeros.
PLAIN_KEYS = frozenset(
    {
        "UnitPrice",
        "Qty",
        "ExchangeRate",
        "TaxPercent",
        "RateValue",
        "DiscountPercent",
        "PurchaseCost",
        "QtyOnHand",
    }
)


class QboFault(Exception):
    """A QBO fault: HTTP status plus one Error entry; `element=None` omits the key (as the 4000 capture)."""

    def __init__(
        self,
        code: str,
        message: str,
        detail: str,
        element: str | None = "",
        status: int = 400,
        fault_type: str = "ValidationFault",
    ) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.detail = detail
        self.element = element
        self.status = status
        self.fault_type = fault_type

    def fault(self) -> dict[str, Any]:
        """The `Fault` object (without `time`), as it sits in a response or a batch item."""
        error: dict[str, Any] = {"Message": self.message, "Detail": self.detail, "code": self.code}
        if self.element is not None:
            error["element"] = self.element
        return {"Error": [error], "type": self.fault_type}


def fault_body(fault: QboFault, now: datetime, tz: tzinfo) -> dict[str, Any]:
    """A complete Fault response body with its `time` envelope."""
    return {"Fault": fault.fault(), "time": api_time(now, tz)}


# ---------------------------------------------------------------- numbers


def to_decimal(value: Any, key: str = "") -> Decimal:
    """A Decimal from a JSON number (or numeric string); QboFault 2010 otherwise."""
    if isinstance(value, bool):
        raise _bad_number(key, value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            raise _bad_number(key, value) from None
        if not d.is_finite():
            raise _bad_number(key, value)
        return d
    raise _bad_number(key, value)


def _bad_number(key: str, value: Any) -> QboFault:
    return QboFault(
        "2010",
        "Request has invalid or unsupported property",
        f"Property Name:{key} specified is unsupported or invalid: {str(value)[:40]}",
    )


def money(value: Any, key: str = "") -> Decimal:
    """Money as QBO writes it: two decimals, rounded half up; zero is plain 0."""
    d = to_decimal(value, key)
    if d == ZERO:
        return ZERO
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def plain(value: Any, key: str = "") -> Decimal | int:
    """A rate or quantity as QBO writes it: an integer when integral, else without trailing zeros."""
    d = to_decimal(value, key)
    if d == d.to_integral_value():
        return int(d)
    return d.normalize()


def normalize_numbers(obj: Any) -> Any:
    """Apply the money and plain-number rules, by key name, everywhere in `obj` (in place for dicts/lists)."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(value, dict | list):
                normalize_numbers(value)
            elif value is None or isinstance(value, bool | str):
                if isinstance(value, str) and (key in MONEY_KEYS or key in PLAIN_KEYS):
                    obj[key] = money(value, key) if key in MONEY_KEYS else plain(value, key)
            elif key in MONEY_KEYS:
                obj[key] = money(value, key)
            elif key in PLAIN_KEYS:
                obj[key] = plain(value, key)
    elif isinstance(obj, list):
        for item in obj:
            normalize_numbers(item)
    return obj


# ---------------------------------------------------------------- JSON


def loads(data: bytes | str) -> Any:
    """Parse request JSON keeping every fractional number exact (Decimal)."""
    return json.loads(data, parse_float=Decimal)


_encode_str: Callable[[str], str] = json.encoder.encode_basestring


def _dump(obj: Any, out: list[str]) -> None:
    t = type(obj)
    if t is str:
        out.append(_encode_str(obj))
    elif t is dict:
        if not obj:
            out.append("{}")
            return
        first = True
        out.append("{")
        for key, value in obj.items():
            if not first:
                out.append(",")
            first = False
            out.append(_encode_str(key))
            out.append(":")
            _dump(value, out)
        out.append("}")
    elif t is list or t is tuple:
        if not obj:
            out.append("[]")
            return
        out.append("[")
        for i, value in enumerate(obj):
            if i:
                out.append(",")
            _dump(value, out)
        out.append("]")
    elif obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif t is int:
        out.append(str(obj))
    elif t is Decimal:
        out.append(format(obj, "f"))
    elif t is float:
        out.append(repr(obj))
    elif isinstance(obj, dict):
        _dump(dict(obj), out)
    else:
        raise TypeError(f"cannot encode {t.__name__}")


def dumps(obj: Any) -> bytes:
    """Compact JSON, UTF-8, with Decimals written exactly as stored (`50.00` stays `50.00`)."""
    out: list[str] = []
    _dump(obj, out)
    return "".join(out).encode("utf-8")


# ---------------------------------------------------------------- time


def _offset(local: datetime, colon: bool) -> str:
    off = local.utcoffset()
    assert off is not None
    minutes = int(off.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}" if colon else f"{sign}{hours:02d}{mins:02d}"


def api_time(now: datetime, tz: tzinfo) -> str:
    """The `time` envelope: company local time with milliseconds and a colon offset."""
    local = now.astimezone(tz)
    return f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond // 1000:03d}{_offset(local, True)}"


def meta_time(when: datetime, tz: tzinfo) -> str:
    """MetaData times: company local time, no milliseconds, colon offset."""
    local = when.astimezone(tz)
    return f"{local:%Y-%m-%dT%H:%M:%S}{_offset(local, True)}"


def webhook_time(when: datetime, tz: tzinfo) -> str:
    """Webhook `lastUpdated`: like MetaData but the offset has no colon (`-0700`)."""
    local = when.astimezone(tz)
    return f"{local:%Y-%m-%dT%H:%M:%S}{_offset(local, False)}"


def parse_time(text: str, tz: tzinfo) -> datetime:
    """An ISO date or date-time; naive values are in the company's zone. ValueError when malformed."""
    text = text.strip()
    if len(text) == 10:
        d = date.fromisoformat(text)
        return datetime(d.year, d.month, d.day, tzinfo=tz)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def txn_date(value: Any, element: str) -> str:
    """A transaction date as QBO stores it: date only, even when sent with a time."""
    if not isinstance(value, str):
        raise QboFault(
            "2010", "Request has invalid or unsupported property", f"Property Name:{element} is invalid"
        )
    text = value.strip()[:10]
    try:
        date.fromisoformat(text)
    except ValueError:
        raise QboFault(
            "2010",
            "Request has invalid or unsupported property",
            f"Property Name:{element} is invalid: {value}",
        ) from None
    return text
