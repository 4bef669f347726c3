"""List pages whose rows PostgreSQL writes as JSON text: the API then joins 50 strings instead of turning
50 rows of typed columns into Python objects and back into JSON (the larger part of a list request's CPU in
the API process, bench/api_throughput.py).

`as_json_rows(query, out)` rewrites a windowed page query (`common.windowed`: `out`'s fields in order, then
`_total`) into one that returns, in the same order, each row's JSON object and the total:

    SELECT row_to_json(item)::text, page._total
    FROM (<the page query>) AS page, LATERAL (SELECT <page's columns, as the API writes them>) AS item
    ORDER BY <the page query's order, on page's columns>

Each value is the text the orjson/pydantic path writes (tests/web/test_api_pages.py compares the bytes):
timestamps in UTC with a `Z` and microseconds only when there are some, NUMERIC as its exact text (a JSON
string, as pydantic writes a Decimal), UUIDs, dates, text, integers and booleans as `row_to_json` writes
them. A query with a column of another type (a JSON document, an array), or ordered by an expression that
is not one of its columns, gets None: its caller keeps the generic path.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    Text,
    Uuid,
    case,
    cast,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.sql.elements import KeyedColumnElement, UnaryExpression
from sqlalchemy.sql.operators import desc_op

from sierra_core.db.types import Fixed, UTCDateTime

__all__ = ["as_json_rows"]

_SECONDS = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
_MICROSECONDS = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
_AS_IS = (Uuid, String, Text, Date, Integer, Boolean)


def _written(column: ColumnElement[Any]) -> ColumnElement[Any] | None:
    """`column` as the API writes it, for `row_to_json`; None for a type this module does not write."""
    kind = column.type
    if isinstance(kind, UTCDateTime):
        utc = column.op("AT TIME ZONE")(literal_column("'UTC'"))
        whole = func.date_trunc(literal_column("'second'"), column) == column
        seconds, microseconds = (
            func.to_char(utc, literal_column(f"'{f}'")) for f in (_SECONDS, _MICROSECONDS)
        )
        return case((whole, seconds), else_=microseconds)
    if isinstance(kind, Fixed):
        return cast(column, Text)
    if isinstance(kind, _AS_IS):
        return column
    return None


def as_json_rows(query: Select[Any], out: type[BaseModel]) -> Select[Any] | None:
    """`query` (windowed, its columns named like `out`'s fields, in that order) as rows of (JSON text,
    total) in the same order; None when a column or the order is not one this module can write."""
    names = [column.name for column in query.selected_columns]
    if names != [*out.model_fields, "_total"]:
        return None
    page = query.subquery("page")
    fields: list[ColumnElement[Any]] = []
    for name in out.model_fields:
        written = _written(page.c[name])
        if written is None:
            return None
        fields.append(written.label(name))
    order: list[ColumnElement[Any]] = []
    for clause in query._order_by_clauses:
        descending = isinstance(clause, UnaryExpression) and clause.modifier is desc_op
        element = clause.element if isinstance(clause, UnaryExpression) else clause
        column = page.corresponding_column(element) if isinstance(element, KeyedColumnElement) else None
        if column is None:
            return None
        order.append(column.desc() if descending else column)
    item = select(*fields).correlate(page).lateral("item")
    text = cast(func.row_to_json(item.table_valued()), Text)
    return select(text, page.c._total).select_from(page).join(item, true()).order_by(*order)
