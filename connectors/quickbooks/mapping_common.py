"""What every QBO mapping shares: the MappingError, money and date conversion, QBO timestamps, reading
references and metadata out of QBO objects, sparse updates, conflict resolution and JSON with exact money.

Money conventions: every amount of money in a mapped body is a Decimal to the cent (an amount with more
decimals is refused with a MappingError, never rounded), quantities and
unit prices are Decimals without trailing zeros. The API client's `codec.dumps` (and `dumps_qbo`, which
uses it) writes them as JSON numbers exactly (`50.00`, `12.75`, `5`); the stdlib `json.dumps` cannot encode
Decimal at all. Values read from QBO must come from JSON parsed with
`parse_float=Decimal`; a float met while reading is refused (`TypeError`), never rounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from connectors.quickbooks import codec
from connectors.quickbooks.settings import ConflictPolicy
from sierra_core.errors import SierraError

__all__ = [
    "CENT",
    "MappingError",
    "QboMeta",
    "dumps_qbo",
    "has_changes",
    "is_deleted",
    "is_voided",
    "money",
    "plain_number",
    "qbo_date",
    "qbo_meta",
    "qbo_time",
    "qbo_timestamp",
    "ref_value",
    "resolve_conflict",
    "sparse_update",
    "to_decimal",
]

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
FAILED = "QuickBooks sync failed: "
MAP_IT = "Map it in the integration settings."


class MappingError(SierraError):
    """An app row cannot be expressed in QuickBooks (unmapped item or account, value QBO would reject).

    Not retryable: the message says what to fix. `code` is one of unmapped_item, unmapped_account,
    missing_reference, invalid_value, sub_cent_amount.
    """

    retryable = False


def to_decimal(value: Any, field: str = "value") -> Decimal:
    """A QBO JSON number (int or Decimal) or numeric string as Decimal; floats are refused."""
    if isinstance(value, bool | float):
        kind = type(value).__name__
        raise TypeError(f"{field}: parse QuickBooks JSON with parse_float=Decimal (got {kind})")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | str):
        try:
            return Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{field}: {value!r} is not a number") from None
    raise TypeError(f"{field}: expected a number, got {type(value).__name__}")


def money(value: Any, field: str = "amount") -> Decimal:
    """A money amount to the cent (so `dumps_qbo` writes `50.00`). An amount with more than two decimals
    is refused (MappingError `sub_cent_amount`), never rounded: 100.125 is neither 100.12 nor 100.13."""
    number = to_decimal(value, field)
    cents = number.quantize(CENT, rounding=ROUND_HALF_UP)
    if cents != number:
        raise MappingError(
            f"{field} {number} has more than two decimals; QuickBooks keeps amounts to the cent and "
            "sierra-sync never rounds them. Correct it to the cent where it was entered, then sync again.",
            code="sub_cent_amount",
        )
    return cents


def plain_number(value: Any, field: str = "value") -> Decimal:
    """A quantity or unit price without trailing zeros or exponent: 10.0000 -> 10, 12.7500 -> 12.75."""
    number = to_decimal(value, field)
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()


def qbo_date(value: Any, field: str = "date") -> date:
    """A QBO transaction date ("2025-05-27", also "2025-05-27T00:00:00") as a date."""
    if not isinstance(value, str) or len(value) < 10:
        raise ValueError(f"{field}: {value!r} is not a QuickBooks date")
    return date.fromisoformat(value[:10])


def qbo_time(value: str | datetime) -> datetime:
    """A QBO timestamp as an aware UTC datetime.

    Accepts the API form with a colon offset and optional milliseconds (`2025-06-10T06:19:51.939-07:00`),
    the webhook form without the colon (`2015-10-05T14:42:19-0700`) and `Z`. A timestamp without an
    offset is refused: QBO always sends one, and guessing the company's zone would shift the sync cursor.
    """
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"QuickBooks timestamp {value!s} has no UTC offset")
    return parsed.astimezone(UTC)


def qbo_timestamp(moment: datetime) -> str:
    """An aware datetime as QBO query/CDC text (`2025-06-10T13:19:51Z` style, UTC, whole seconds)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime")
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def ref_value(obj: Mapping[str, Any], key: str) -> str | None:
    """The id inside a reference field (`CustomerRef`, `ItemRef`...), or None when absent."""
    ref = obj.get(key)
    if isinstance(ref, Mapping) and ref.get("value") not in (None, ""):
        return str(ref["value"])
    return None


def _ref_name(obj: Mapping[str, Any], key: str) -> str | None:
    ref = obj.get(key)
    if isinstance(ref, Mapping) and isinstance(ref.get("name"), str):
        return str(ref["name"])
    return None


@dataclass(frozen=True, slots=True)
class QboMeta:
    """Id, SyncToken and last change time (UTC) of a QBO object: what entity links and cursors store."""

    id: str
    sync_token: str | None
    last_updated: datetime | None


def qbo_meta(obj: Mapping[str, Any]) -> QboMeta:
    """Id, SyncToken and MetaData.LastUpdatedTime (UTC) of a QBO object, including CDC delete markers."""
    if obj.get("Id") in (None, ""):
        raise ValueError("QuickBooks object without an Id")
    meta = obj.get("MetaData")
    updated = None
    if isinstance(meta, Mapping) and isinstance(meta.get("LastUpdatedTime"), str):
        updated = qbo_time(meta["LastUpdatedTime"])
    token = obj.get("SyncToken")
    return QboMeta(str(obj["Id"]), None if token is None else str(token), updated)


def is_deleted(obj: Mapping[str, Any]) -> bool:
    """True for a CDC delete marker (`{"status": "Deleted", "Id", "MetaData"}`) or a delete response."""
    return obj.get("status") == "Deleted"


def is_voided(obj: Mapping[str, Any]) -> bool:
    """True for a voided invoice or payment: PrivateNote starts with "Voided" and the total is zero."""
    note = obj.get("PrivateNote")
    total = obj.get("TotalAmt", 0)
    return isinstance(note, str) and note.startswith("Voided") and to_decimal(total, "TotalAmt") == 0


def resolve_conflict(
    policy: ConflictPolicy, app_updated_at: datetime, qbo_updated_at: datetime
) -> Literal["app", "qbo"]:
    """Which side wins when both changed since the last sync. last_write_wins compares the app's
    updated_at with QBO's LastUpdatedTime (both aware); a tie goes to the app."""
    if policy == "app_wins":
        return "app"
    if policy == "qbo_wins":
        return "qbo"
    if app_updated_at.tzinfo is None or qbo_updated_at.tzinfo is None:
        raise ValueError("conflict resolution needs aware datetimes")
    return "qbo" if qbo_updated_at > app_updated_at else "app"


# ---------------------------------------------------------------- sparse update

_SUBTOTAL = "SubTotalLineDetail"  # computed by QBO, never sent
_NEVER_IN_UPDATE = frozenset({"CurrencyRef"})  # read-only after creation


def _same(ours: Any, theirs: Any) -> bool:
    """Whether QBO already holds what we would send: our dicts must be a subset of theirs (QBO adds Ids
    and defaults), references compare by id, numbers by value, line lists item by item."""
    if isinstance(ours, Mapping):
        if not isinstance(theirs, Mapping):
            return False
        if "value" in ours and set(ours) <= {"value", "name"}:
            return str(ours["value"]) == str(theirs.get("value"))
        return all(_same(v, theirs.get(k)) for k, v in ours.items())
    if isinstance(ours, list):
        if not isinstance(theirs, list):
            return False
        theirs = [x for x in theirs if not (isinstance(x, Mapping) and x.get("DetailType") == _SUBTOTAL)]
        return len(ours) == len(theirs) and all(_same(a, b) for a, b in zip(ours, theirs, strict=True))
    if isinstance(ours, Decimal | int) and not isinstance(ours, bool):
        if theirs is None or isinstance(theirs, bool | str):
            return False
        return bool(ours == to_decimal(theirs))
    return bool(ours == theirs)


def sparse_update(
    body: Mapping[str, Any], *, qbo_id: str, sync_token: str, current: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The sparse-update form of a mapped body: `Id`, `SyncToken`, `sparse: true` and the fields to change.

    With `current` (the QBO object as last read), only top-level fields whose value differs are sent;
    without it, every mapped field is sent (still sparse: fields the app does not manage are untouched).
    `CurrencyRef` is never sent (read-only after creation). Resending `Line` replaces every line of the
    transaction (QBO gives them new Ids), so lines are only resent when they changed; compare the result
    with `has_changes`.
    """
    if not qbo_id or not sync_token:
        raise ValueError("a sparse update needs the QBO Id and the stored SyncToken")
    out: dict[str, Any] = {"Id": str(qbo_id), "SyncToken": str(sync_token), "sparse": True}
    for key, value in body.items():
        if key in _NEVER_IN_UPDATE or key in out:
            continue
        if current is not None and _same(value, current.get(key)):
            continue
        out[key] = value
    return out


def has_changes(update: Mapping[str, Any]) -> bool:
    """True when a `sparse_update` body carries anything besides Id, SyncToken and sparse."""
    return any(key not in ("Id", "SyncToken", "sparse") for key in update)


# ---------------------------------------------------------------- JSON


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("float in a QuickBooks body: money and quantities must be Decimal")
    if isinstance(value, Mapping):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_floats(item)


def dumps_qbo(body: Any) -> str:
    """JSON text of a mapped body exactly as the API client sends it (`codec.dumps`: compact, ASCII,
    Decimals with their digits: `Decimal("50.00")` -> `50.00`); a float anywhere is refused."""
    _refuse_floats(body)
    return codec.dumps(body).decode("ascii")
