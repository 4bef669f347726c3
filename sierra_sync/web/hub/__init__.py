"""The integrations hub under /hub: server-rendered pages (Jinja2, a little plain JavaScript) where a
company admin connects, watches and configures every provider of the kit's registry.

`install(app, deps)` adds its routes, static files, error pages and security headers when `deps.hub` is
set (see docs/hub.md)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from sierra_sync.web.deps import AppDeps
from sierra_sync.web.hub import (
    integration_routes,
    key_routes,
    log_routes,
    reconcile_routes,
    session_routes,
    settings_routes,
)
from sierra_sync.web.hub.auth import HubError, LoginRequired
from sierra_sync.web.hub.config import HubConfig
from sierra_sync.web.hub.pages import HERE, render

__all__ = ["ROUTERS", "HubConfig", "install"]

ROUTERS = tuple(
    m.router
    for m in (session_routes, integration_routes, settings_routes, log_routes, key_routes, reconcile_routes)
)
# No inline script or style anywhere: the policy forbids both, and framing (clickjacking).
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        b"frame-ancestors 'none'; form-action 'self' http: https:",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every /hub answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/hub"):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def install(app: FastAPI, deps: AppDeps) -> None:
    if deps.hub is None:
        return

    @app.exception_handler(HubError)
    async def hub_error(request: Request, err: HubError) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": err.title, "message": err.message}, status_code=err.status)
        return render(
            request, "message.html", None, title=err.title, message=err.message, status_code=err.status
        )

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _: LoginRequired) -> Response:
        if _wants_json(request) or request.method != "GET":
            return JSONResponse(
                {"error": "Sign in", "message": "Your session has ended; sign in again."}, status_code=401
            )
        return RedirectResponse(f"/hub/login?next={quote(request.url.path)}", status_code=303)

    @app.get("/hub", include_in_schema=False)
    async def hub_root() -> Response:
        return RedirectResponse("/hub/", status_code=308)

    for router in ROUTERS:
        app.include_router(router)
    app.mount("/hub/static", StaticFiles(directory=str(HERE / "static")), name="hub-static")
    app.add_middleware(SecurityHeaders)
