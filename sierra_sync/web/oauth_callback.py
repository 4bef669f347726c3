"""GET /oauth/quickbooks/callback: Intuit's redirect after consent, finished by the same code path as
`sierra-sync connect` (`connectors.quickbooks.connect.complete`: single-use state, PKCE, sealed tokens).

The query carries `code` and `state`: they are never logged (uvicorn's access log is off in `api serve`,
and our own lines name only the outcome).
"""

from __future__ import annotations

import html
import logging
import threading
import uuid

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from connectors.crypto import Keyring
from connectors.quickbooks import connect as qbo_connect
from connectors.quickbooks import oauth
from sierra_sync.errors import SierraError
from sierra_sync.web.deps import AppDeps

__all__ = ["QuickBooksCallback", "router"]

log = logging.getLogger("sierra_sync.web.oauth")


class QuickBooksCallback:
    """An `OAuthCompleter` for QuickBooks: discovers Intuit's endpoints once, then completes each
    callback with `connect.complete`."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        keyring: Keyring,
        app: oauth.OAuthApp,
        *,
        http: httpx.Client | None = None,
    ) -> None:
        self.sessions = sessions
        self.keyring = keyring
        self.app = app
        self.http = http or httpx.Client(timeout=30)
        self._endpoints: oauth.Endpoints | None = None
        self._lock = threading.Lock()

    def endpoints(self) -> oauth.Endpoints:
        with self._lock:
            if self._endpoints is None:
                self._endpoints = oauth.discover(self.http, self.app.discovery_url)
            return self._endpoints

    def __call__(self, *, state: str, code: str | None, realm_id: str | None, error: str | None) -> uuid.UUID:
        return qbo_connect.complete(
            self.sessions,
            self.keyring,
            self.app,
            self.endpoints(),
            self.http,
            state=state,
            code=code,
            realm_id=realm_id,
            error=error,
        )


def _page(title: str, text: str, status: int) -> HTMLResponse:
    body = (
        "<!doctype html><meta charset=utf-8><title>sierra-sync</title>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def router(deps: AppDeps) -> APIRouter:
    api = APIRouter(tags=["oauth"])

    @api.get("/oauth/quickbooks/callback", summary="Intuit's OAuth redirect: finish a QuickBooks connection")
    async def quickbooks_callback(request: Request) -> HTMLResponse:
        completer = deps.oauth_completer
        if completer is None:
            log.error("a QuickBooks OAuth callback arrived but the QuickBooks app is not configured")
            return _page("QuickBooks is not configured here", "Run `sierra-sync blocks setup` first.", 503)
        q = request.query_params
        state = q.get("state")
        if not state:
            log.warning("QuickBooks OAuth callback without state refused")
            return _page("QuickBooks was not connected", "The callback has no state; start again.", 400)
        try:
            integration_id = await run_in_threadpool(
                completer, state=state, code=q.get("code"), realm_id=q.get("realmId"), error=q.get("error")
            )
        except SierraError as err:
            log.warning("QuickBooks OAuth callback refused: %s", err.message)
            return _page("QuickBooks was not connected", err.message, 400)
        log.info("QuickBooks connected through the OAuth callback (integration %s)", integration_id)
        return _page("QuickBooks is connected", "You can close this window.", 200)

    return api
