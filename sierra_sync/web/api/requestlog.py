"""The middleware of /api/ paths: rate-limit headers on every answer to a known key, a 500 that leaks
nothing, and one `api_request_logs` row per request (method, path, redacted query, status, time, ip, user
agent, rate-limited flag, error code). Bodies are never stored: they may carry webhook secrets.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from sqlalchemy import insert
from starlette.concurrency import run_in_threadpool

from connectors.apikeys import RateState
from connectors.db.models import ApiRequestLog
from connectors.redact import redact
from sierra_sync.web.api.errors import internal_error
from sierra_sync.web.deps import AppDeps

__all__ = ["install_request_log", "rate_headers"]

log = logging.getLogger("sierra_sync.web.api")


def rate_headers(rate: RateState) -> dict[str, str]:
    limit, remaining, reset = rate.binding
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(int(reset.timestamp())),
    }


def _clean(text: str, limit: int) -> str:
    # NUL and lone surrogates cannot be stored (PostgreSQL refuses them): the log row must still go in.
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")[:limit]


def _write(deps: AppDeps, row: dict[str, Any]) -> None:
    with deps.sessions() as session:  # one statement, autocommitted: no BEGIN/COMMIT round trips
        conn = session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        conn.execute(insert(ApiRequestLog), [row])


def install_request_log(app: FastAPI, deps: AppDeps) -> None:
    @app.middleware("http")
    async def api_requests(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if not request.url.path.startswith("/api/"):
            return await call_next(request)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception as exc:  # the one place a bug becomes a bare 500
            response = internal_error(request, exc)
        state = request.state
        rate: RateState | None = getattr(state, "rate", None)
        if rate is not None:
            response.headers.update(rate_headers(rate))
        elapsed_ms = int((time.perf_counter() - started) * 1000)
        query = {_clean(k, 100): _clean(v, 500) for k, v in request.query_params.items()}
        row = {
            "api_key_id": getattr(state, "key_id", None),
            "company_id": getattr(state, "company_id", None),
            "method": request.method[:10],
            "path": _clean(request.url.path, 2000),
            "query_params": redact(query) if query else None,
            "status_code": response.status_code,
            "response_time_ms": elapsed_ms,
            "ip_address": request.client.host[:45] if request.client else None,
            "user_agent": _clean(request.headers.get("user-agent") or "", 500) or None,
            "rate_limit_exceeded": bool(getattr(state, "rate_limited", False)),
            "error_code": getattr(state, "error_code", None),
        }
        try:
            await run_in_threadpool(_write, deps, row)
        except Exception as exc:  # a lost log row must not turn a good answer into an error
            log.error("api request log not written: %s", type(exc).__name__)
        return response
