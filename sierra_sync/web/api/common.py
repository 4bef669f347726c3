"""What the /api/v1 routers share: pagination, scoped lookups, and Idempotency-Key handling for POST."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Annotated, Any

import orjson
from fastapi import Header, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import ColumnElement, Connection, Select, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import QueryableAttribute, Session

from sierra_core.db.models import ApiIdempotencyKey
from sierra_core.db.models.base import Base, table_of
from sierra_sync.web.api.auth import ApiContext
from sierra_sync.web.api.errors import ApiError, ErrorBody
from sierra_sync.web.api.pgjson import as_json_rows
from sierra_sync.web.api.schemas import Page
from sierra_sync.web.deps import AppDeps

__all__ = [
    "ERRORS",
    "IdempotencyKey",
    "Limit",
    "Offset",
    "columns",
    "idempotent",
    "invalid",
    "json_rows_statement",
    "not_found",
    "page",
    "page_body",
    "windowed",
]

_UTC_Z = orjson.OPT_UTC_Z  # "…Z" for UTC, as pydantic writes an aware UTC datetime

Limit = Annotated[int, Query(ge=1, le=100, description="Rows per page (1-100).")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Rows to skip.")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[\x21-\x7e]{1,255}$",
        description="Any unique string (e.g. a UUID): a retry with the same key and body gets the first "
        "answer and creates nothing; the same key with another body gets 409.",
    ),
]

_E = {"model": ErrorBody}
# Documented on every operation (schema checks and the playground show the error shape).
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_E, "description": "Invalid request: `details` names each field"},
    401: {**_E, "description": "No API key, or an unknown, revoked or expired one"},
    403: {**_E, "description": "The key lacks the permission"},
    404: {**_E, "description": "No such record in your company"},
    429: {**_E, "description": "Rate limit reached: see Retry-After"},
    500: {**_E, "description": "Internal error (a reference id only)"},
}


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"no {what} with that id in your company")


def invalid(field: str, message: str) -> ApiError:
    """400 naming one field of the request (a check pydantic cannot make: a reference, an order)."""
    return ApiError(
        400,
        "validation_error",
        "the request is not valid; see details",
        details=[{"field": field, "message": message}],
    )


def columns(
    out: type[BaseModel], model: type[Base], **renamed: QueryableAttribute[Any]
) -> list[ColumnElement[Any]]:
    """The columns of `model`'s table that make `out`, labelled with `out`'s field names (`renamed` maps a
    field to another column); fields with no such column are left to the page's `shape`."""
    table = table_of(model)
    picked: list[ColumnElement[Any]] = []
    for name in out.model_fields:
        if name in renamed:
            picked.append(renamed[name].label(name))
        elif name in table.c:
            picked.append(table.c[name])
    return picked


@cache
def _page_adapter(out: type[BaseModel]) -> TypeAdapter[Any]:
    return TypeAdapter(Page[out])  # type: ignore[valid-type]


def windowed(query: Select[Any]) -> Select[Any]:
    """`query` as `page` runs it: with the total of its rows and a bound limit and offset. Build it once
    (at import, or cached) and pass it with `params` to `page`: no statement built per request."""
    total = func.count().over().label("_total")
    return query.add_columns(total).limit(bindparam("_limit")).offset(bindparam("_offset"))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # as pydantic writes a Decimal (money from NUMERIC(…, 2) keeps its two places)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def page(
    conn: Connection,
    query: Select[Any],
    limit: int,
    offset: int,
    out: type[BaseModel],
    shape: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    params: dict[str, Any] | None = None,
) -> Response:
    """One page of `query` (Core columns named like `out`'s fields, see `columns`) with the true total of
    rows matching it, as the JSON of Page[out]. With `params`, `query` is already `windowed` and `params`
    are its bound values.

    One statement: the total comes from `count(*) OVER ()` on the same snapshot as the rows (a second count
    runs only for a page past the end, which has no row to carry it). No ORM objects are built. Rows whose
    columns are exactly `out`'s fields (no `shape`) come as JSON text from PostgreSQL (api.pgjson) or go
    from the database's types straight to JSON (orjson), the same text as pydantic writes
    (tests/web/test_api_pages.py); shaped rows are validated and serialised by pydantic, the model the
    OpenAPI document shows."""
    bound = {**(params or {}), "_limit": limit, "_offset": offset}
    paged = windowed(query) if params is None else query
    on_postgres = shape is None and conn.dialect.name == "postgresql"
    as_json = _json_rows(paged, out, cached=params is not None) if on_postgres else None
    if as_json is not None:
        rows = conn.execute(as_json, bound).all()
        total = int(rows[-1][-1]) if rows else _total_past_end(conn, query, offset, params)
        body = page_body([row[0] for row in rows], limit, offset, total)
        return Response(body, media_type="application/json")
    result = conn.execute(paged, bound)
    keys = list(result.keys())[:-1]
    rows = result.all()
    total = int(rows[-1][-1]) if rows else _total_past_end(conn, query, offset, params)
    data = [dict(zip(keys, row, strict=False)) for row in rows]
    pagination = _pagination(limit, offset, total, len(rows))
    if shape is None and set(keys) == set(out.model_fields):
        body = orjson.dumps({"data": data, "pagination": pagination}, default=_json_default, option=_UTC_Z)
        return Response(body, media_type="application/json")
    if shape is not None:
        data = [shape(item) for item in data]
    adapter = _page_adapter(out)
    body = adapter.dump_json(adapter.validate_python({"data": data, "pagination": pagination}))
    return Response(body, media_type="application/json")


def _pagination(limit: int, offset: int, total: int, rows: int) -> dict[str, Any]:
    return {"limit": limit, "offset": offset, "total": total, "has_more": offset + rows < total}


def page_body(items: list[str], limit: int, offset: int, total: int) -> bytes:
    """The JSON of a page whose rows come as JSON text (api.pgjson)."""
    pagination = orjson.dumps(_pagination(limit, offset, total, len(items)))
    return b'{"data":[' + ",".join(items).encode() + b'],"pagination":' + pagination + b"}"


_JSON_ROWS: dict[int, tuple[Select[Any], Select[Any] | None]] = {}


def json_rows_statement(paged: Select[Any], out: type[BaseModel]) -> Select[Any] | None:
    """The PostgreSQL statement of `paged` (a page query built once, see `windowed`) that returns each row
    as its JSON text (api.pgjson), rewritten once per statement object; None: not one pgjson can write."""
    known = _JSON_ROWS.get(id(paged))
    if known is None or known[0] is not paged:
        known = _JSON_ROWS[id(paged)] = (paged, as_json_rows(paged, out))
    return known[1]


def _json_rows(paged: Select[Any], out: type[BaseModel], *, cached: bool) -> Select[Any] | None:
    return json_rows_statement(paged, out) if cached else as_json_rows(paged, out)


def _total_past_end(conn: Connection, query: Select[Any], offset: int, params: dict[str, Any] | None) -> int:
    """The total of a page that has no row to carry it: 0 on the first page, else counted."""
    if offset > 0:
        base = query.limit(None).offset(None).order_by(None)
        if params is not None:  # drop the window's total column again
            base = base.with_only_columns(*list(base.selected_columns)[:-1])
        counted = select(func.count()).select_from(base.subquery())
        return int(conn.execute(counted, params or {}).scalar_one())
    return 0


def _find(session: Session, key_id: uuid.UUID, key: str) -> ApiIdempotencyKey | None:
    return session.scalar(
        select(ApiIdempotencyKey).where(
            ApiIdempotencyKey.api_key_id == key_id, ApiIdempotencyKey.idempotency_key == key
        )
    )


def _replay(
    stored: ApiIdempotencyKey, request_hash: str, restore: Callable[[Any], Any] = lambda body: body
) -> JSONResponse:
    if stored.request_hash != request_hash:
        raise ApiError(
            409,
            "idempotency_key_reused",
            "this Idempotency-Key was already used with a different request; use a new key",
        )
    return JSONResponse(
        restore(stored.response_body), status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
    )


def idempotent(
    deps: AppDeps,
    ctx: ApiContext,
    key: str | None,
    method: str,
    path: str,
    body: Any,
    work: Callable[[Session], tuple[int, Any]],
    *,
    store: Callable[[Any], Any] = lambda body: body,
    restore: Callable[[Any], Any] = lambda body: body,
) -> JSONResponse:
    """Run `work` (which writes and returns status and JSON body) once per Idempotency-Key: its answer is
    stored in the same transaction as its effect, so a retry replays it and never writes twice.
    `store` strips what must not be stored (a secret), `restore` puts it back on a replay."""
    request_hash = hashlib.sha256(
        json.dumps([method, path, body], sort_keys=True, default=str).encode()
    ).hexdigest()
    if key is not None:
        with deps.sessions() as session:
            stored = _find(session, ctx.key_id, key)
            if stored is not None:
                return _replay(stored, request_hash, restore)
    try:
        with deps.sessions.begin() as session:
            status, payload = work(session)
            if key is not None:
                session.add(
                    ApiIdempotencyKey(
                        api_key_id=ctx.key_id,
                        idempotency_key=key,
                        method=method,
                        path=path,
                        request_hash=request_hash,
                        status_code=status,
                        response_body=store(payload),
                    )
                )
                session.flush()
    except IntegrityError:
        if key is None:
            raise
        # A concurrent request with the same key won the race: its effect stands, ours was rolled back.
        with deps.sessions() as session:
            stored = _find(session, ctx.key_id, key)
        if stored is None:
            raise
        return _replay(stored, request_hash, restore)
    return JSONResponse(payload, status_code=status)
