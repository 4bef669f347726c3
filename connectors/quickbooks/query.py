"""Building QBO queries safely, and paging through their results.

QBO's query language has single-quoted string literals with backslash escapes (`'Amy\\'s Bird Sanctuary'`)
and no bind parameters, so every value goes through `quote_literal` and every name through `identifier`:
a customer called O'Brien, or `x' OR '1'='1`, stays one literal and can neither break nor widen a query.

    q = select("Customer", "Id", "DisplayName").where("DisplayName", "=", "O'Brien")
    q.render(start=1, max_results=1000)
    # SELECT Id, DisplayName FROM Customer WHERE DisplayName = 'O\\'Brien' STARTPOSITION 1 MAXRESULTS 1000

Paging is STARTPOSITION (1-based) / MAXRESULTS (at most 1000), with a loop guard.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connectors.kit.pagination import OffsetPages, Page
from connectors.kit.pagination import PaginationError as KitPaginationError
from connectors.kit.pagination import paginate as kit_paginate
from sierra_core.errors import SierraError

__all__ = [
    "MAX_PAGE_SIZE",
    "RESULT_KEYS",
    "PaginationError",
    "Select",
    "identifier",
    "paginate",
    "quote_literal",
    "result_rows",
    "select",
]

MAX_PAGE_SIZE = 1000
# FROM name -> the key QBO answers under, where they differ (a real capture: Currency -> CompanyCurrency).
RESULT_KEYS = {"Currency": "CompanyCurrency"}
_META_KEYS = frozenset({"startPosition", "maxResults", "totalCount"})
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}(\.[A-Za-z][A-Za-z0-9]{0,63}){0,3}$")
_OPERATORS = frozenset({"=", "<", ">", "<=", ">=", "IN", "LIKE"})

Literal = str | int | Decimal | date | datetime | bool


class PaginationError(SierraError):
    """Paging did not end (the server ignored STARTPOSITION or repeats itself)."""

    retryable = False


def identifier(name: str) -> str:
    """`name` if it is a safe entity or field name (`DisplayName`, `MetaData.LastUpdatedTime`)."""
    if not isinstance(name, str) or not _IDENT.match(name):
        raise ValueError(f"{name!r} is not a QuickBooks entity or field name (letters, digits and dots)")
    return name


def quote_literal(value: Literal) -> str:
    """A QBO literal: strings single-quoted with `\\` and `'` backslash-escaped; booleans bare.

    Numbers and dates are quoted too (QBO compares `TotalAmt > '300.00'`); datetimes must be aware.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a naive datetime in a QuickBooks query is ambiguous; pass an aware one")
        text = value.isoformat(timespec="seconds")
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot query with a non-finite number: {value}")
        text = format(value, "f")
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise TypeError(f"cannot use {type(value).__name__} as a QuickBooks query literal")
    if any(ord(ch) < 32 for ch in text):
        text = re.sub(r"[\x00-\x1f]", " ", text)  # control characters have no escape in QBO literals
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class Condition:
    """`field op value` (IN takes a sequence)."""

    field: str
    op: str
    value: Literal | tuple[Literal, ...]

    def render(self) -> str:
        """The condition as QBO text, values quoted."""
        if self.op == "IN":
            values = self.value if isinstance(self.value, tuple) else (self.value,)
            return f"{self.field} IN ({', '.join(quote_literal(v) for v in values)})"
        assert not isinstance(self.value, tuple)
        return f"{self.field} {self.op} {quote_literal(self.value)}"


@dataclass(frozen=True)
class Select:
    """An immutable QBO SELECT; `where()` / `order_by()` return new ones."""

    entity: str
    fields: tuple[str, ...] = ("*",)
    conditions: tuple[Condition, ...] = ()
    order: tuple[tuple[str, bool], ...] = field(default=())

    def where(self, field_name: str, op: str, value: Literal | Iterable[Literal]) -> Select:
        """Add `AND field op value` (op one of = < > <= >= IN LIKE; QBO has no OR)."""
        operator = op.strip().upper()
        if operator not in _OPERATORS:
            raise ValueError(f"operator {op!r} is not supported by QuickBooks queries")
        if operator == "IN":
            if isinstance(value, str | bytes) or not isinstance(value, Iterable):
                raise ValueError("IN needs a list of values")
            values = tuple(value)
            if not values:
                raise ValueError("IN needs at least one value")
            cond = Condition(identifier(field_name), operator, values)
        else:
            if isinstance(value, Iterable) and not isinstance(value, str):
                raise ValueError(f"{operator} needs a single value")
            cond = Condition(identifier(field_name), operator, value)
        return Select(self.entity, self.fields, (*self.conditions, cond), self.order)

    def order_by(self, field_name: str, *, descending: bool = False) -> Select:
        """Add an ORDERBY field."""
        return Select(
            self.entity, self.fields, self.conditions, (*self.order, (identifier(field_name), descending))
        )

    def _body(self, head: str) -> str:
        # Not SQL: a QBO query whose names pass `identifier` and whose values pass `quote_literal`.
        text = f"SELECT {head} FROM {identifier(self.entity)}"  # noqa: S608
        if self.conditions:
            text += " WHERE " + " AND ".join(c.render() for c in self.conditions)
        return text

    def render(self, *, start: int | None = None, max_results: int | None = None) -> str:
        """The query text, with STARTPOSITION (1-based) / MAXRESULTS (≤ 1000) when given."""
        text = self._body(", ".join(self.fields))
        if self.order:
            text += " ORDERBY " + ", ".join(f"{f} DESC" if d else f for f, d in self.order)
        if start is not None:
            if start < 1:
                raise ValueError("STARTPOSITION is 1-based")
            text += f" STARTPOSITION {int(start)}"
        if max_results is not None:
            if not 1 <= max_results <= MAX_PAGE_SIZE:
                raise ValueError(f"MAXRESULTS must be 1..{MAX_PAGE_SIZE}")
            text += f" MAXRESULTS {int(max_results)}"
        return text

    def render_count(self) -> str:
        """`SELECT COUNT(*) FROM …` with the same conditions."""
        return self._body("COUNT(*)")

    def __str__(self) -> str:
        return self.render()


def select(entity: str, *fields: str) -> Select:
    """Start a query: `select("Invoice")` is `SELECT * FROM Invoice`."""
    names = tuple(identifier(f) for f in fields) if fields else ("*",)
    return Select(identifier(entity), names)


def result_rows(response: Mapping[str, Any], entity: str) -> list[dict[str, Any]]:
    """The rows of a `QueryResponse` for `entity` (`[]` for `{}`; Currency is answered as CompanyCurrency)."""
    key = RESULT_KEYS.get(entity, entity)
    rows = response.get(key)
    if rows is None:
        lists = [v for k, v in response.items() if k not in _META_KEYS and isinstance(v, list)]
        rows = lists[0] if len(lists) == 1 else []
    return [dict(r) for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []


def paginate(
    fetch: Callable[[str], Mapping[str, Any]],
    query: Select,
    *,
    page_size: int = MAX_PAGE_SIZE,
    max_pages: int = 10_000,
    default_order: str | None = "Id",
) -> Iterator[dict[str, Any]]:
    """Yield every row of `query`, fetching pages with `fetch(query_text) -> QueryResponse`.

    Stops at the first short page. Guards: at most `max_pages` pages, and a page whose rows are the same
    as the previous page's (a server ignoring STARTPOSITION) raises `PaginationError` instead of looping.
    Without an ORDERBY, pages are ordered by `default_order` (Id) so that rows do not move between pages.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
    if default_order and not query.order and ("*" in query.fields or default_order in query.fields):
        query = query.order_by(default_order)

    def page(params: dict[str, Any]) -> Page:
        text = query.render(start=params["start"], max_results=params["size"])
        return Page(result_rows(fetch(text), query.entity))

    try:
        for row in kit_paginate(page, OffsetPages(page_size), max_pages=max_pages, what=query.entity):
            yield dict(row)
    except KitPaginationError as err:
        raise PaginationError(f"QuickBooks: {err}") from None
