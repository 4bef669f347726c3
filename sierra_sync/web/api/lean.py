"""The lean path of the API's hottest reads: list pages answered by the API guard itself, on the event
loop, through psycopg's async pool, on PostgreSQL.

Lean lists: GET /api/v1/projects and /tasks (api.projects.LEAN), GET /api/v1/invoices (api.records.LEAN).

Why: under 50 concurrent clients, what a list request costs the API process beyond the framework-free floor
(bench/floor_app.py) was FastAPI's routing and dependency solving (about 0.4 ms of CPU a request under
load) and a worker thread with a synchronous SQLAlchemy execute (about 0.5 ms), so the API reached half of
the floor's throughput (bench/api_throughput.py, BENCHMARKS.md). Served here, a page costs about what the
floor's does, plus the request log and the rate-limit headers, which still apply (the middleware is
outside the guard).

Same answers, exactly: each lean list stays a FastAPI route (OpenAPI, docs, its validation and errors), and
shares with it the function that picks the statement (`LeanList.statement`). The lean path answers only
what it can answer as the route would: a GET of the route's exact path, a query that validates against the
route's own query parameters (a pydantic model made from the route's, so the same types, bounds and
defaults), a key holding the permission, and a page with rows (or the first page). Anything else falls
through to the route, which gives the canonical answer: 400 naming the field, 403, the total counted past
the end. tests/web/test_api_lean.py compares both paths' answers byte for byte.

Elsewhere (SQLite, `AppDeps.lean_reads` off) nothing is served here.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from pydantic import BaseModel, ValidationError, create_model
from sqlalchemy import Engine, Select
from sqlalchemy.engine import Compiled
from starlette.datastructures import QueryParams
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from sierra_sync.web.api.auth import ApiContext
from sierra_sync.web.api.common import json_rows_statement, page_body

__all__ = ["LeanList", "LeanReads"]

log = logging.getLogger("sierra_sync.web.api")

POOL_SIZE = 5  # connections per API process: a page query takes well under a millisecond


@dataclass(frozen=True)
class LeanList:
    """A list route served lean: its path, the permission it needs, its model, and the function both paths
    use to pick the statement and its bound values from the caller and the validated query."""

    path: str
    resource: str
    out: type[BaseModel]
    # (caller, the route's query values) -> (a page statement built once, see common.windowed; its values)
    statement: Callable[[ApiContext, dict[str, Any]], tuple[Select[Any], dict[str, Any]]]


@dataclass(frozen=True)
class _Served:
    spec: LeanList
    query: type[BaseModel]  # the route's query parameters, as FastAPI validates them


def _query_model(route: APIRoute) -> type[BaseModel]:
    """A pydantic model of `route`'s query parameters: the same annotations, defaults, bounds and aliases."""

    def nested(dependant: Dependant) -> bool:
        return any(sub.query_params or nested(sub) for sub in dependant.dependencies)

    if nested(route.dependant):
        raise TypeError(f"{route.path}: a lean list takes its query parameters in the endpoint itself")
    fields: dict[str, Any] = {
        field.name: (field.field_info.annotation, field.field_info) for field in route.dependant.query_params
    }
    model: type[BaseModel] = create_model(f"LeanQuery{route.name}", **fields)
    return model


class LeanReads:
    """The lean lists of an app (see the module's docstring). `serve` returns False for a request it leaves
    to the route. `served` counts the requests answered here."""

    def __init__(self, engine: Engine | None, specs: Sequence[LeanList], *, enabled: bool = True) -> None:
        self._engine = engine
        self._specs = {spec.path: spec for spec in specs}
        self._served: dict[str, _Served] = {}
        self._statements: dict[int, tuple[Select[Any], Compiled]] = {}
        self.enabled = enabled and engine is not None and engine.dialect.name == "postgresql"
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] | None = None
        self._opening = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        # What its connections are called in pg_stat_activity.
        self.application_name = f"sierra-api-lean-{uuid.uuid4().hex[:8]}"
        self.served = 0

    def bind(self, routes: Sequence[BaseRoute]) -> None:
        """Read each lean list's query parameters from its route."""
        for route in routes:
            spec = self._specs.get(getattr(route, "path", ""))
            if isinstance(route, APIRoute) and spec is not None and "GET" in (route.methods or ()):
                self._served[spec.path] = _Served(spec, _query_model(route))
        missing = set(self._specs) - set(self._served)
        if missing:
            raise TypeError(f"lean lists without a GET route: {sorted(missing)}")

    async def serve(self, ctx: ApiContext, scope: Scope, receive: Receive, send: Send) -> bool:
        served = self._served.get(scope["path"]) if self.enabled and scope["method"] == "GET" else None
        if served is None or not ctx.can(served.spec.resource, "read"):
            return False
        try:
            values = served.query.model_validate(dict(QueryParams(scope["query_string"]))).model_dump()
        except ValidationError:
            return False  # the route answers 400, naming the field
        statement, params = served.spec.statement(ctx, values)
        as_json = json_rows_statement(statement, served.spec.out)
        if as_json is None:
            raise TypeError(f"{served.spec.path}: a lean list's statement must be one api.pgjson can write")
        limit, offset = values["limit"], values["offset"]
        try:
            rows = await self._rows(as_json, {**params, "_limit": limit, "_offset": offset})
        except (psycopg.OperationalError, PoolTimeout) as err:
            # A connection lost (a database restart) or none to be had: the route answers, through the
            # engine that pings and reconnects; the pool drops the broken connection.
            log.warning("api lean reads: %s; answered by the route", type(err).__name__)
            return False
        if not rows and offset > 0:
            return False  # past the end: the route counts the total
        total = int(rows[-1][1]) if rows else 0
        body = page_body([row[0] for row in rows], limit, offset, total)
        await Response(body, media_type="application/json")(scope, receive, send)
        self.served += 1
        return True

    def _compiled(self, statement: Select[Any]) -> Compiled:
        """`statement` compiled once for the engine's dialect (statements here are built once)."""
        known = self._statements.get(id(statement))
        if known is None or known[0] is not statement:
            assert self._engine is not None
            compiled = statement.compile(dialect=self._engine.dialect)
            if getattr(compiled, "_bind_processors", None):  # values SQLAlchemy would convert first
                raise TypeError("a lean list's statement must bind plain values (no type conversion)")
            known = (statement, compiled)
            if len(self._statements) < 256:  # a bound, should a statement ever be built per request
                self._statements[id(statement)] = known
        return known[1]

    async def _rows(self, statement: Select[Any], params: dict[str, Any]) -> list[tuple[Any, ...]]:
        compiled = self._compiled(statement)
        bound = compiled.construct_params(params)
        pool = self._pool or await self._open()
        async with pool.connection() as conn:
            cursor = await conn.execute(compiled.string, bound, prepare=True)
            return await cursor.fetchall()

    async def _open(self) -> AsyncConnectionPool[AsyncConnection[Any]]:
        async with self._opening:
            if self._pool is None:
                assert self._engine is not None
                _, kwargs = self._engine.dialect.create_connect_args(self._engine.url)
                connect = {"connect_timeout": 10, **kwargs, "autocommit": True}
                pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
                    kwargs={**connect, "application_name": self.application_name},
                    min_size=1,  # grows to max_size while requests wait for a connection
                    timeout=10,  # waiting longer for one: the route answers
                    max_size=POOL_SIZE,
                    open=False,
                    name="api-lean-reads",
                )
                try:
                    await pool.open(wait=True, timeout=10)
                except PoolTimeout:
                    await pool.close()
                    raise
                self._pool, self._loop = pool, asyncio.get_running_loop()
            return self._pool

    async def close(self) -> None:
        """Close the connection pool (the app's lifespan does, at shutdown); opened again if needed."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    def close_from_thread(self, timeout: float = 10.0) -> None:
        """`close` from outside the event loop that opened the pool (a server run in a thread)."""
        loop = self._loop
        if self._pool is not None and loop is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(self.close(), loop).result(timeout)
