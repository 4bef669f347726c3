"""GET /oauth/{provider}/callback: any provider's redirect after consent, finished by the same code path as
`sierra-sync connect` (`connectors.kit.connect.complete`: single-use state, PKCE, sealed tokens).

The query carries `code` and `state`: they are never logged (uvicorn's access log is off in `api serve`,
and our own lines name only the outcome). Everything echoed into the page is escaped.
"""

from __future__ import annotations

import html
import logging
import threading
import uuid
from collections.abc import Mapping

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from connectors.kit import connect, oauth
from connectors.kit.registry import get_adapter
from sierra_core.crypto import Keyring
from sierra_core.errors import NotFoundError, SierraError
from sierra_sync.web.deps import AppDeps

__all__ = ["OAuthCallbacks", "finish_connection", "router"]

log = logging.getLogger("sierra_sync.web.oauth")


def finish_connection(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    app: oauth.App,
    http: httpx.Client,
    query: Mapping[str, str],
) -> uuid.UUID:
    """Complete a connection from the callback's query (what the CLI's loopback server and the web app both
    do); a new connection to a local sandbox starts with the adapter's sample mappings."""
    adapter = get_adapter(app.provider.name)
    initial = adapter.local_settings() if app.environment == "local" and adapter.local_settings else None
    return connect.complete(
        sessions,
        keyring,
        app,
        http,
        state=query.get("state", ""),
        code=query.get("code"),
        callback=query,
        error=query.get("error"),
        initial_settings=initial,
    )


class OAuthCallbacks:
    """Finishes connections of every configured provider; discovers each provider's endpoints once."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        keyring: Keyring,
        apps: Mapping[str, oauth.App],
        *,
        http: httpx.Client | None = None,
    ) -> None:
        self.sessions = sessions
        self.keyring = keyring
        self._apps = dict(apps)
        self._discovered: set[str] = set()
        self.http = http or httpx.Client(timeout=30)
        self._lock = threading.Lock()

    def configured(self, provider: str) -> bool:
        """True when `provider`'s app is known here (no I/O)."""
        return provider in self._apps

    def app(self, provider: str) -> oauth.App | None:
        with self._lock:
            app = self._apps.get(provider)
            if app is not None and provider not in self._discovered:
                app = self._apps[provider] = oauth.discover(self.http, app)
                self._discovered.add(provider)
            return app

    def _configured_app(self, provider: str) -> oauth.App:
        app = self.app(provider)
        if app is None:
            raise SierraError(f"{provider} is not configured here; run `sierra-sync blocks setup`")
        return app

    def complete(self, provider: str, query: Mapping[str, str]) -> uuid.UUID:
        app = self._configured_app(provider)
        return finish_connection(self.sessions, self.keyring, app, self.http, query)

    def begin(self, provider: str, company_id: uuid.UUID, user_id: uuid.UUID | None) -> str:
        """The consent URL that starts connecting `company_id` (the integrations hub's Connect)."""
        app = self._configured_app(provider)
        return connect.begin(self.sessions, self.keyring, app, company_id, created_by=user_id).url

    def disconnect(self, provider: str, company_id: uuid.UUID, user_id: uuid.UUID | None) -> bool:
        """Revoke at the provider and wipe the tokens (the integrations hub's Disconnect)."""
        app = self._configured_app(provider)
        return connect.disconnect(
            self.sessions, self.keyring, app, self.http, company_id, disconnected_by=user_id
        )


def _page(title: str, text: str, status: int, back: str | None = None) -> HTMLResponse:
    link = f'<p><a href="{html.escape(back)}">Back to integrations</a></p>' if back else ""
    body = (
        '<!doctype html><html lang="en"><meta charset=utf-8>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>sierra-sync</title>'
        f"<main><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{link}</main></html>"
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def router(deps: AppDeps) -> APIRouter:
    api = APIRouter(tags=["oauth"])

    @api.get("/oauth/{provider}/callback", summary="A provider's OAuth redirect: finish its connection")
    async def oauth_callback(provider: str, request: Request) -> Response:
        try:
            declared = get_adapter(provider).provider
        except NotFoundError:
            return _page(
                "Unknown provider", "This callback belongs to no provider of this installation.", 404
            )
        title = declared.title
        callbacks = deps.oauth
        if callbacks is None or not callbacks.configured(declared.name):
            log.error("a %s OAuth callback arrived but the %s app is not configured", title, title)
            return _page(f"{title} is not configured here", "Run `sierra-sync blocks setup` first.", 503)
        query = dict(request.query_params)
        if not query.get("state"):
            log.warning("%s OAuth callback without state refused", title)
            return _page(f"{title} was not connected", "The callback has no state; start again.", 400)
        try:
            integration_id = await run_in_threadpool(callbacks.complete, declared.name, query)
        except SierraError as err:
            log.warning("%s OAuth callback refused: %s", title, err.message)
            back = "/hub/" if deps.hub is not None else None
            return _page(f"{title} was not connected", err.message, 400, back)
        log.info("%s connected through the OAuth callback (integration %s)", title, integration_id)
        if deps.hub is not None:  # back to the integrations hub, whose card now shows the connection
            return RedirectResponse(f"/hub/?done=connected&provider={declared.name}", status_code=303)
        return _page(f"{title} is connected", "You can close this window.", 200)

    return api
