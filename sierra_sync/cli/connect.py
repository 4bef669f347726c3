"""`sierra-sync connect quickbooks` / `disconnect quickbooks`.

`connect` starts a short-lived loopback server at the redirect URI, shows (or opens) the consent URL and
waits for Intuit's callback; with `--no-browser` against the local sandbox it walks the consent itself.
"""

from __future__ import annotations

import html
import threading
import uuid
import webbrowser
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import typer
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from blocks.loader import quickbooks_app, token_keys
from connectors.db.engine import session_factory
from connectors.db.models import Company, Integration
from connectors.quickbooks import connect as qbo_connect
from connectors.quickbooks import oauth
from connectors.quickbooks.settings import sample_company_settings
from sandbox.common.server import LocalServer
from sierra_sync.cli.common import echo_json, open_engine, require_current_schema, resolve_company
from sierra_sync.errors import ConfigError, SierraError

connect_app = typer.Typer(help="Connect a company to an external service.", no_args_is_help=True)
disconnect_app = typer.Typer(help="Disconnect a company from an external service.", no_args_is_help=True)


@dataclass
class _Outcome:
    done: threading.Event = field(default_factory=threading.Event)
    integration_id: uuid.UUID | None = None
    error: SierraError | None = None


def _callback_app(path: str, finish: object, outcome: _Outcome) -> Starlette:
    async def callback(request: Request) -> HTMLResponse:
        q = request.query_params
        try:
            outcome.integration_id = finish(  # type: ignore[operator]
                state=q.get("state", ""), code=q.get("code"), realm_id=q.get("realmId"), error=q.get("error")
            )
            page = "<h1>QuickBooks is connected</h1><p>You can close this window.</p>"
            status = 200
        except SierraError as err:  # its message may echo the query (Intuit's `error=`): text, never HTML
            outcome.error = err
            page, status = f"<h1>QuickBooks was not connected</h1><p>{html.escape(err.message)}</p>", 400
        outcome.done.set()
        return HTMLResponse(
            f"<!doctype html><meta charset=utf-8><title>sierra-sync</title>{page}",
            status_code=status,
            headers={"Cache-Control": "no-store"},
        )

    return Starlette(routes=[Route(path, callback)])


def _company(value: str) -> Company:
    engine = open_engine()
    require_current_schema(engine)
    with session_factory(engine)() as session:
        return resolve_company(session, value)


def _apply_sample_settings(sessions: sessionmaker[Session], integration_id: uuid.UUID) -> None:
    """The local sandbox's sample company has known items and accounts: map the seed data to them, unless
    the connection already has settings (a person's mappings always win)."""
    with sessions.begin() as session:
        row = session.get(Integration, integration_id)
        if row is not None and not row.settings:
            row.settings = sample_company_settings().to_json()


@connect_app.command("quickbooks")
def connect_quickbooks(
    company: str = typer.Option(..., "--company", help="Company id or exact name."),
    no_browser: bool = typer.Option(
        False,
        "--no-browser",
        help="Do not open a browser (local sandbox: complete the consent automatically).",
    ),
    realm_id: str | None = typer.Option(None, help="Local sandbox only: reuse this existing realm."),
    timeout: float = typer.Option(300, help="Seconds to wait for the consent."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Authorize sierra-sync to use a QuickBooks Online company for one Sierra Suites company."""
    target = _company(company)
    sessions = session_factory(open_engine())
    block = quickbooks_app()
    app, keyring = block.oauth_app(), token_keys().keyring()
    redirect = urlsplit(app.redirect_uri)
    if not oauth.is_loopback(app.redirect_uri):
        raise ConfigError(
            f"the redirect URI {app.redirect_uri} is not a loopback address: open the consent from the web "
            "app served by `sierra-sync api serve`, which receives that callback"
        )
    with httpx.Client(timeout=30) as http:
        endpoints = oauth.discover(http, app.discovery_url)
        extra = {"realm_id": realm_id} if realm_id and app.environment == "local" else {}
        auth = qbo_connect.begin(sessions, keyring, app, endpoints, target.id, extra_params=extra)
        outcome = _Outcome()

        def finish(**kw: str | None) -> uuid.UUID:
            return qbo_connect.complete(sessions, keyring, app, endpoints, http, **kw)  # type: ignore[arg-type]

        server = LocalServer(
            _callback_app(redirect.path or "/", finish, outcome),
            host=redirect.hostname or "127.0.0.1",
            port=redirect.port or 80,
        )
        try:
            server.start()
        except RuntimeError:
            raise ConfigError(
                f"cannot listen on {redirect.hostname}:{redirect.port} for the OAuth callback; "
                "stop whatever uses that port (e.g. `sierra-sync api serve`) and try again"
            ) from None
        try:
            if no_browser and app.environment == "local":
                httpx.get(auth.url, follow_redirects=True, timeout=30)
            else:
                typer.echo(
                    f"Open this URL to authorize QuickBooks (valid {auth.expires_in_seconds // 60} min):"
                )
                typer.echo(auth.url)
                if not no_browser:
                    webbrowser.open(auth.url)
            if not outcome.done.wait(timeout):
                raise SierraError(f"no answer from QuickBooks within {timeout:.0f} s; run connect again")
        finally:
            server.stop()
    if outcome.error is not None:
        raise outcome.error
    if app.environment == "local" and outcome.integration_id is not None:
        _apply_sample_settings(sessions, outcome.integration_id)
    result = {
        "company": target.name,
        "company_id": str(target.id),
        "integration_id": str(outcome.integration_id),
    }
    if as_json:
        echo_json(result)
    else:
        typer.echo(f"connected {target.name} to QuickBooks (integration {outcome.integration_id})")


@disconnect_app.command("quickbooks")
def disconnect_quickbooks(
    company: str = typer.Option(..., "--company", help="Company id or exact name."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Revoke the company's QuickBooks authorization at Intuit and wipe its tokens here."""
    target = _company(company)
    sessions = session_factory(open_engine())
    app, keyring = quickbooks_app().oauth_app(), token_keys().keyring()
    with httpx.Client(timeout=30) as http:
        endpoints = oauth.discover(http, app.discovery_url)
        revoked = qbo_connect.disconnect(sessions, keyring, app, endpoints, http, target.id)
    if as_json:
        echo_json({"company": target.name, "revoked": revoked})
    else:
        typer.echo(
            f"disconnected {target.name} from QuickBooks" + ("" if revoked else " (it was not connected)")
        )
