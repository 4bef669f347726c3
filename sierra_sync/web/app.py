"""The sierra-sync web app: webhook receivers, the QuickBooks OAuth callback, the public REST API under
/api/v1 and the health check. Served by `sierra-sync webhooks serve` and `sierra-sync api serve`.

    app = create_app(AppDeps(sessions=session_factory(engine), webhook_secrets={"stripe": ["whsec_…"]}))
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from sierra_sync.web import api, hub, oauth_callback, webhooks
from sierra_sync.web.deps import AppDeps

__all__ = ["create_app"]

log = logging.getLogger("sierra_sync.web")


def _ping(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        session.execute(text("SELECT 1"))


# Threads for sync endpoints and dependencies (anyio's default is 40). Every one of them may hold a database
# connection: more threads than pooled connections means connections opened and closed per request (a
# PostgreSQL backend started each time), which halved the API's throughput in bench/api_latency.py.
API_THREADS = 20


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = API_THREADS
    # What startup built (routes, models, the ORM registry) lives as long as the process: freeze it out of
    # the collector's scans, so a full collection no longer pauses every request in flight for tens of ms
    # (p99 at 190 requests/s, bench/api_latency.py --think-ms 250: median of 3 runs 62 -> 39 ms).
    gc.collect()
    gc.freeze()
    yield
    await app.state.lean_reads.close()  # the lean list pages' connection pool
    await run_in_threadpool(app.state.request_log.close)  # the request-log rows still queued
    await run_in_threadpool(app.state.key_cache.close)  # unused leased requests go back to their keys


DOCS_STATIC = "/docs/static"


def create_app(deps: AppDeps) -> FastAPI:
    """A FastAPI app bound to `deps` (no global state: two apps in one process do not share anything)."""
    # The API playground at /docs works offline: Swagger UI's script and style ship with fastapi-offline
    # and are served from /docs/static, not from a CDN.
    app = FastAPIOffline(
        lifespan=_lifespan,
        title="sierra-sync",
        summary="The public REST API (/api/v1), webhooks (Stripe, Intuit) and the QuickBooks OAuth callback.",
        version="0.1.0",
        docs_url="/docs",
        redoc_url=None,
        static_url=DOCS_STATIC,
    )
    app.state.deps = deps
    app.include_router(webhooks.router(deps))
    app.include_router(oauth_callback.router(deps))
    api.install(app, deps)  # the public REST API under /api/v1
    hub.install(app, deps)  # the integrations hub under /hub (when deps.hub is set)

    @app.get("/healthz", tags=["health"], summary="Liveness and database reachability")
    async def healthz() -> JSONResponse:
        try:
            await run_in_threadpool(_ping, deps.sessions)
        except Exception as exc:
            log.error("health check: database unavailable (%s)", type(exc).__name__)
            return JSONResponse({"status": "unavailable", "database": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    return app
