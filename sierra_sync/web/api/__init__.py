"""The public REST API (/api/v1): API-key auth with per-key permissions and rate limits, request logging,
projects and tasks, contacts, invoices, sync logs, integration status and outgoing webhooks.

`install(app, deps)` adds the routers, the error handlers, the guard (the API key is checked before a body
is read; bodies are limited while read) and the request-log middleware to the web app.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from connectors.apikey_cache import KeyCache
from sierra_sync.web.api import projects, records, subscriptions
from sierra_sync.web.api.errors import API_PREFIX, install_error_handlers
from sierra_sync.web.api.guard import ApiGuard
from sierra_sync.web.api.lean import LeanReads
from sierra_sync.web.api.requestlog import RequestLogMiddleware, RequestLogWriter
from sierra_sync.web.deps import AppDeps

__all__ = ["API_PREFIX", "install"]


def _openapi_without_422(app: FastAPI) -> None:
    """FastAPI documents 422 for every validated operation; the API answers 400 instead."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            for path, ops in schema.get("paths", {}).items():
                if path.startswith(API_PREFIX):
                    for op in ops.values():
                        op.get("responses", {}).pop("422", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI, deps: AppDeps) -> None:
    install_error_handlers(app)
    writer = RequestLogWriter(deps.counters)
    app.state.request_log = writer  # create_app's lifespan closes it (flushing what is queued)
    keys = KeyCache(deps.autocommit)
    app.state.key_cache = keys  # create_app's lifespan closes it (giving back unused leased requests)
    lean = LeanReads(deps.counters_engine, (*projects.LEAN, *records.LEAN), enabled=deps.lean_reads)
    lean.bind([*projects.router.routes, *records.router.routes])
    app.state.lean_reads = lean  # create_app's lifespan closes it (its connection pool)
    app.add_middleware(ApiGuard, deps=deps, keys=keys, lean=lean)  # the key before the body; its size read
    app.add_middleware(RequestLogMiddleware, writer=writer)  # added last: outside the guard, logs its answers
    for module in (projects, records, subscriptions):
        app.include_router(module.router)
    _openapi_without_422(app)
