"""Reading lists as Xero's GET does: `If-Modified-Since` (documents updated after it), `where` (`Field ==
"text"`, `Field == Guid("...")`, `Field == true`, dates compared with `Date >= DateTime(2026, 10, 01)` (==,
!=, >, >=, <, <=), joined by AND / && and OR / ||, AND binding tighter), `order` (`Field [ASC|DESC]`), the
`IDs`/`Statuses`/`ContactIDs`/`InvoiceNumbers` filters, and `page=N` (100 a page; without it, everything:
invoices then come without their line items)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from sandbox.xero.wire import BadRequest

__all__ = ["PAGE_SIZE", "parse_since", "select"]

PAGE_SIZE = 100
_CLAUSE = re.compile(
    r'^\s*([A-Za-z][\w.]*)\s*==\s*(?:"([^"]*)"|Guid\("([0-9a-fA-F-]+)"\)|(true|false)|(-?\d+(?:\.\d+)?))\s*$'
)
_OUTSIDE_QUOTES = r'(?=(?:[^"]*"[^"]*")*[^"]*$)'  # an even number of quotes follows
_MS = re.compile(r"/Date\((-?\d+)")
_DATE_CLAUSE = re.compile(
    r"^\s*([A-Za-z][\w.]*)\s*(==|!=|>=|<=|>|<)\s*DateTime\(\s*(\d{4})\s*,\s*(\d{1,2})\s*,\s*(\d{1,2})\s*\)\s*$"
)
_COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}
_FILTERS = {
    "IDs": None,
    "Statuses": "Status",
    "ContactIDs": "Contact.ContactID",
    "InvoiceNumbers": "InvoiceNumber",
}


def _field(doc: Mapping[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _since(header: str) -> datetime:
    text = header.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            raise BadRequest(f"If-Modified-Since {text!r} is not a date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_since(header: str) -> datetime:
    """An If-Modified-Since header as an aware date-time (`BadRequest` when it is none)."""
    return _since(header)


def _updated(doc: Mapping[str, Any]) -> datetime:
    match = _MS.search(str(doc.get("UpdatedDateUTC", "")))
    return (
        datetime.fromtimestamp(int(match.group(1)) / 1000, UTC) if match else datetime.min.replace(tzinfo=UTC)
    )


def _day(value: Any) -> date | None:
    """The calendar day of a stored Xero date (`/Date(ms+0000)/` or ISO text)."""
    if value is None:
        return None
    found = _MS.search(str(value))
    if found:
        return datetime.fromtimestamp(int(found.group(1)) / 1000, UTC).date()
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _where(docs: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    """Documents matching any of the OR-ed groups (`||` too), each a conjunction of clauses."""
    kept: dict[int, dict[str, Any]] = {}
    for group in re.split(r"(?:\s+OR\s+|\s*\|\|\s*)" + _OUTSIDE_QUOTES, where.strip()):
        kept.update({id(d): d for d in _all_of(docs, group)})
    return [d for d in docs if id(d) in kept]


def _all_of(docs: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    for clause in re.split(r"(?:\s+AND\s+|\s*&&\s*)" + _OUTSIDE_QUOTES, where.strip()):
        dated = _DATE_CLAUSE.match(clause)
        if dated is not None:
            path, op, year, month, day = dated.groups()
            try:
                bound = date(int(year), int(month), int(day))
            except ValueError:
                raise BadRequest(f"{clause!r} names no real day") from None
            docs = [d for d in docs if (v := _day(_field(d, path))) is not None and _COMPARE[op](v, bound)]
            continue
        match = _CLAUSE.match(clause)
        if match is None:
            raise BadRequest(f'The where clause {clause!r} is not understood (use Field=="value")')
        path, text, guid, flag, number = match.groups()
        if flag is not None:
            docs = [d for d in docs if bool(_field(d, path)) is (flag == "true")]
        elif number is not None:
            docs = [d for d in docs if str(_field(d, path)) == number or _field(d, path) == float(number)]
        else:
            wanted = (text if text is not None else guid).lower()
            docs = [d for d in docs if str(_field(d, path) or "").lower() == wanted]
    return docs


def select(
    resource: str,
    docs: list[dict[str, Any]],
    id_field: str,
    params: Mapping[str, str],
    since: str | None,
    paged: bool,
) -> list[dict[str, Any]]:
    """The documents a GET of the list answers."""
    if since:
        moment = _since(since)
        docs = [d for d in docs if _updated(d) > moment]
    for param, path in _FILTERS.items():
        if params.get(param):
            wanted = {v.strip().lower() for v in params[param].split(",") if v.strip()}
            docs = [d for d in docs if str(_field(d, path or id_field) or "").lower() in wanted]
    if params.get("where"):
        docs = _where(docs, params["where"])
    order = (params.get("order") or "").strip()
    if order:
        key, _, direction = order.partition(" ")
        if key == "UpdatedDateUTC":
            docs = sorted(docs, key=_updated, reverse=direction.strip().upper() == "DESC")
        else:
            docs = sorted(
                docs, key=lambda d: str(_field(d, key) or ""), reverse=direction.strip().upper() == "DESC"
            )
    page = params.get("page")
    if page is not None and paged:
        try:
            number = int(page)
        except ValueError:
            raise BadRequest(f"page must be a whole number, not {page!r}") from None
        if number < 1:
            raise BadRequest("page starts at 1")
        return docs[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    if resource == "Invoices":
        return [{k: v for k, v in d.items() if k != "LineItems"} for d in docs]
    return docs
