"""`sierra-sync connect PROVIDER` / `disconnect PROVIDER`, for every provider of the kit's registry.

`connect` starts a short-lived loopback server at the redirect URI, shows (or opens) the consent URL and
waits for the provider's callback; with `--no-browser` against a local sandbox it walks the consent itself.
"""

from __future__ import annotations

import html
import threading
import time
import uuid
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import httpx
import typer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from blocks.apps import provider_app
from blocks.loader import token_keys
from connectors.kit import connect as kit_connect
from connectors.kit import oauth
from connectors.kit import provider as oauth_decl
from connectors.kit.provider import Provider
from connectors.kit.registry import PROVIDERS, get_provider
from connectors.kit.urls import is_loopback
from sandbox.common.server import LocalServer
from sierra_core.db.engine import session_factory
from sierra_core.db.models import Company, Integration, OAuthState
from sierra_core.errors import ConfigError, SierraError
from sierra_sync.cli import tenants
from sierra_sync.cli.common import echo_json, open_engine, require_current_schema, resolve_company
from sierra_sync.web.oauth_callback import finish_connection

CALLBACK_WORK_S = 30.0  # the web app took the callback: the token exchange is done within this
_CHOICES = ", ".join(sorted(PROVIDERS))


@dataclass
class _Outcome:
    done: threading.Event = field(default_factory=threading.Event)
    integration_id: uuid.UUID | None = None
    error: SierraError | None = None


def _callback_app(
    title: str, path: str, finish: Callable[[Mapping[str, str]], uuid.UUID], outcome: _Outcome
) -> Starlette:
    async def callback(request: Request) -> HTMLResponse:
        try:
            outcome.integration_id = finish(dict(request.query_params))
            heading, text, status = f"{title} is connected", "You can close this window.", 200
        except SierraError as err:
            outcome.error = err
            heading, text, status = f"{title} was not connected", err.message, 400
        outcome.done.set()
        page = (
            "<!doctype html><meta charset=utf-8><title>sierra-sync</title>"
            f"<h1>{html.escape(heading)}</h1><p>{html.escape(text)}</p>"
        )
        return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})

    return Starlette(routes=[Route(path, callback)])


def _company(value: str) -> Company:
    engine = open_engine()
    require_current_schema(engine)
    with session_factory(engine)() as session:
        return resolve_company(session, value)


def _serve_callback(
    app: oauth.App,
    auth: kit_connect.Authorization,
    host: str | None,
    port: int | None,
    finish: Callable[[Mapping[str, str]], uuid.UUID],
    outcome: _Outcome,
    no_browser: bool,
    timeout: float,
) -> None:
    """A short-lived loopback server at the redirect URI receives the callback and finishes the connection."""
    title = app.provider.title
    path = urlsplit(app.redirect_uri).path or "/"
    server = LocalServer(
        _callback_app(title, path, finish, outcome), host=host or "127.0.0.1", port=port or 80
    )
    try:
        server.start()
    except RuntimeError:
        raise ConfigError(
            f"cannot listen on {host}:{port} for the OAuth callback; "
            "stop whatever uses that port and try again"
        ) from None
    try:
        _consent(app, auth.url, auth.expires_in_seconds, no_browser)
        if not outcome.done.wait(timeout):
            raise SierraError(f"no answer from {title} within {timeout:.0f} s; run connect again")
    finally:
        server.stop()


def _web_app_answers(base_url: str) -> bool:
    """Whether sierra-sync's web app (which also receives OAuth callbacks) listens at `base_url`."""
    try:
        return httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _connected_since(made: Integration, since: datetime) -> bool:
    return made.connection_status == "connected" and made.updated_at is not None and made.updated_at >= since


def _wait_for_web_app(
    sessions: sessionmaker[Session], state: str, company_id: uuid.UUID, app: oauth.App, timeout: float
) -> uuid.UUID:
    """Until the connection the web app makes from the consent's callback is there; its id."""
    hashed, title = kit_connect.state_hash(state), app.provider.title
    deadline = time.monotonic() + timeout
    used_at: float | None = None  # when the web app took the callback
    while True:
        with sessions() as session:
            made = session.scalars(
                select(Integration).where(
                    Integration.company_id == company_id, Integration.integration_type == app.provider.name
                )
            ).first()
            pending = session.scalars(select(OAuthState).where(OAuthState.state == hashed)).first()
            consumed = pending.consumed_at if pending is not None else None
            if consumed is not None and used_at is None:
                used_at = time.monotonic()
            if consumed is not None and made is not None and _connected_since(made, consumed):
                return made.id
        if used_at is not None and time.monotonic() - used_at > CALLBACK_WORK_S:
            raise SierraError(f"{title} was not connected: see the web app's log, then run connect again")
        if time.monotonic() > deadline:
            raise SierraError(f"no answer from {title} within {timeout:.0f} s; run connect again")
        time.sleep(0.2)


def _consent(app: oauth.App, url: str, expires_in: int, no_browser: bool) -> None:
    if no_browser and app.environment == "local":
        httpx.get(url, follow_redirects=True, timeout=30)
        return
    typer.echo(f"Open this URL to authorize {app.provider.title} (valid {expires_in // 60} min):")
    typer.echo(url)
    if not no_browser:
        webbrowser.open(url)


def connect(
    provider: str = typer.Argument(..., help=f"The provider: {_CHOICES} (alias: quickbooks)."),
    company: str = typer.Option(..., "--company", help="Company id or exact name."),
    no_browser: bool = typer.Option(
        False,
        "--no-browser",
        help="Do not open a browser (local sandbox: complete the consent automatically).",
    ),
    realm_id: str | None = typer.Option(None, help="Local QuickBooks sandbox only: reuse this realm."),
    tenant: str | None = typer.Option(
        None,
        "--tenant",
        help="Xero: the organisation (tenant id or exact name) this company keeps its books in, when the "
        "authorization reaches several; while a choice is pending, it is recorded without a new consent.",
    ),
    timeout: float = typer.Option(300, help="Seconds to wait for the consent."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Authorize sierra-sync to use a provider's account for one Sierra Suites company."""
    declared = get_provider(provider)  # an unknown provider is one line, before anything starts
    step = declared.oauth.post_connect if isinstance(declared.oauth, oauth_decl.OAuth2) else None
    if tenant is not None and (step is None or step.choose != "person"):
        raise ConfigError(
            f"--tenant is for providers whose authorization may reach several organisations (xero); "
            f"{declared.title} connects the account the consent names"
        )
    target = _company(company)
    if tenant is not None and _pending_choices(target.id, declared):
        picked = tenants.settle(session_factory(open_engine()), declared, target.id, tenant)
        _report(declared.name, declared.title, target, picked.integration_id, picked, as_json)
        return
    app = provider_app(provider)
    title = app.provider.title
    sessions = session_factory(open_engine())
    keyring = token_keys().keyring()
    redirect = urlsplit(app.redirect_uri)
    if not is_loopback(app.redirect_uri):
        raise ConfigError(
            f"the redirect URI {app.redirect_uri} is not a loopback address: open the consent from the web "
            "app served by `sierra-sync api serve`, which receives that callback"
        )
    with httpx.Client(timeout=30) as http:
        app = oauth.discover(http, app)
        extra = {"realm_id": realm_id} if realm_id and app.environment == "local" else {}
        auth = kit_connect.begin(sessions, keyring, app, target.id, extra_params=extra)
        outcome = _Outcome()

        def finish(query: Mapping[str, str]) -> uuid.UUID:
            return finish_connection(sessions, keyring, app, http, query)

        if _web_app_answers(f"{redirect.scheme}://{redirect.netloc}"):
            # The web app (`api serve`, `sierra-sync up`) holds the port: it receives the callback and
            # finishes the connection; this command follows it in the database.
            _consent(app, auth.url, auth.expires_in_seconds, no_browser)
            outcome.integration_id = _wait_for_web_app(sessions, auth.state, target.id, app, timeout)
        else:
            _serve_callback(app, auth, redirect.hostname, redirect.port, finish, outcome, no_browser, timeout)
    if outcome.error is not None:
        raise outcome.error
    chosen: tenants.Chosen | None = None
    if step is not None and step.choose == "person":
        chosen = tenants.settle(sessions, app.provider, target.id, tenant)
    _report(app.provider.name, title, target, outcome.integration_id, chosen, as_json)


def _pending_choices(company_id: uuid.UUID, provider: Provider) -> bool:
    engine = open_engine()
    try:
        return bool(tenants.pending(session_factory(engine), provider, company_id))
    finally:
        engine.dispose()


def _report(
    name: str,
    title: str,
    target: Company,
    integration_id: uuid.UUID | None,
    chosen: tenants.Chosen | None,
    as_json: bool,
) -> None:
    result: dict[str, object] = {
        "provider": name,
        "company": target.name,
        "company_id": str(target.id),
        "integration_id": str(integration_id),
    }
    if chosen is not None:
        result["tenant"] = {"id": chosen.id, "name": chosen.name}
    if as_json:
        echo_json(result)
        return
    where = f" ({chosen.name or chosen.id})" if chosen is not None else ""
    typer.echo(f"connected {target.name} to {title}{where} (integration {integration_id})")


def disconnect(
    provider: str = typer.Argument(..., help=f"The provider: {_CHOICES} (alias: quickbooks)."),
    company: str = typer.Option(..., "--company", help="Company id or exact name."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Revoke the company's authorization at the provider and wipe its tokens here."""
    get_provider(provider)
    target = _company(company)
    app = provider_app(provider)
    sessions = session_factory(open_engine())
    keyring = token_keys().keyring()
    with httpx.Client(timeout=30) as http:
        app = oauth.discover(http, app)
        revoked = kit_connect.disconnect(sessions, keyring, app, http, target.id)
    title = app.provider.title
    if as_json:
        echo_json({"provider": app.provider.name, "company": target.name, "revoked": revoked})
    else:
        typer.echo(
            f"disconnected {target.name} from {title}" + ("" if revoked else " (it was not connected)")
        )
