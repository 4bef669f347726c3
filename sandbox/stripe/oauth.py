"""Stripe Connect OAuth (https://docs.stripe.com/connect/oauth-reference), served as connect.stripe.com does.

* `GET /oauth/authorize?response_type=code&client_id=ca_…&scope=read_write&redirect_uri=…&state=…`: a consent
  page; its form (`POST /oauth/authorize`) connects a new account and redirects to `redirect_uri` with `code`
  and `state`, or with `error=access_denied` when the user declines.
* `POST /oauth/token`: `grant_type=authorization_code` (`code`) or `refresh_token` (`refresh_token`); the
  platform's secret key authenticates (Bearer, Basic, or the `client_secret` parameter).
* `POST /oauth/deauthorize`: `client_id` and `stripe_user_id`; the account's tokens stop working.

Errors are OAuth's `{"error": …, "error_description": …}`. Codes are single use and live five minutes.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sandbox.stripe.accounts import AuthorizationCode, ConnectedAccount
from sandbox.stripe.auth import authenticate
from sandbox.stripe.errors import StripeError
from sandbox.stripe.forms import parse_query
from sandbox.stripe.state import NO_REQUEST, SandboxState

CODE_TTL_SECONDS = 300
SCOPES = ("read_only", "read_write")
_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Connect with Stripe (sandbox)</title></head>
<body>
<h1>{app} would like to connect to your Stripe account</h1>
<p>Access requested: <strong>{scope}</strong>. This is the local Stripe sandbox; no real account is used.</p>
<form method="post" action="/oauth/authorize">
{hidden}
<label>Business name <input name="business_name" value="Sandbox Builders LLC"></label>
<button type="submit" name="decision" value="allow">Connect my Stripe account</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</body></html>
"""


class OAuthError(Exception):
    """An OAuth error answer: `{"error": code, "error_description": description}`."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description

    def response(self) -> Response:
        return JSONResponse(
            {"error": self.code, "error_description": self.description}, status_code=self.status
        )


async def _form(request: Request) -> dict[str, str]:
    raw = parse_query(request.url.query)
    if request.method == "POST":
        raw.update(parse_query(await request.body()))
    return {k: v for k, v in raw.items() if isinstance(v, str)}


def _secret_key(request: Request, form: dict[str, str]) -> str:
    """The platform secret key from the Authorization header or `client_secret`."""
    header = request.headers.get("authorization")
    try:
        if header:
            return authenticate(header)
        return authenticate(f"Bearer {form['client_secret']}" if form.get("client_secret") else None)
    except StripeError as error:
        raise OAuthError(401, "invalid_client", error.message) from None


def _check_client(state: SandboxState, client_id: str | None) -> str:
    if not client_id:
        raise OAuthError(400, "invalid_request", "No client_id provided.")
    if client_id != state.options.connect_client_id:
        raise OAuthError(401, "invalid_client", f"No such application: '{client_id}'")
    return client_id


def _redirect_uri(state: SandboxState, given: str | None) -> str:
    registered = state.options.connect_redirect_uris
    if given:
        if registered and given not in registered:
            raise OAuthError(
                400,
                "invalid_redirect_uri",
                f"Invalid redirect URI '{given}'. Ensure this uri exactly matches one of the URIs "
                "specified in your application settings.",
            )
        if not given.startswith(("http://", "https://")):
            raise OAuthError(400, "invalid_redirect_uri", f"Invalid redirect URI '{given}'.")
        return given
    if not registered:
        raise OAuthError(
            400, "invalid_request", "No redirect_uri provided, and the application has none set."
        )
    return registered[0]


def _back(redirect_uri: str, params: dict[str, str]) -> RedirectResponse:
    joiner = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{joiner}{urlencode(params)}", status_code=302)


def _error_page(error: OAuthError) -> Response:
    body = f"<!doctype html><h1>Stripe Connect error</h1><p>{html.escape(error.code)}: " \
           f"{html.escape(error.description)}</p>"  # fmt: skip
    return HTMLResponse(body, status_code=error.status)


async def authorize(state: SandboxState, request: Request) -> Response:
    """GET: the consent page; POST: the user's decision, answered with a redirect to `redirect_uri`."""
    form = await _form(request)
    try:
        client_id = _check_client(state, form.get("client_id"))
        redirect_uri = _redirect_uri(state, form.get("redirect_uri"))
    except OAuthError as error:
        return _error_page(error)  # nowhere safe to redirect to: Stripe shows the error itself
    echo = {"state": form["state"]} if "state" in form else {}
    scope = form.get("scope") or "read_only"
    if form.get("response_type", "code") != "code":
        unsupported = "Only response_type=code is supported."
        return _back(
            redirect_uri, {"error": "unsupported_response_type", **echo, "error_description": unsupported}
        )
    if scope not in SCOPES:
        return _back(redirect_uri, {"error": "invalid_scope", **echo,
                                    "error_description": f"Invalid scope: {scope}"})  # fmt: skip
    if request.method == "GET":
        keep = {"client_id": client_id, "redirect_uri": redirect_uri, "scope": scope, **echo}
        hidden = "\n".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in keep.items()
        )
        return HTMLResponse(_PAGE.format(app=html.escape(client_id), scope=html.escape(scope), hidden=hidden))
    if form.get("decision") != "allow":
        return _back(redirect_uri, {"error": "access_denied", **echo,
                                    "error_description": "The user denied your request"})  # fmt: skip
    account = state.connect.connect(client_id, scope, form.get("business_name") or "Sandbox Builders LLC")
    code = state.connect.token("ac", 32)
    state.connect.codes[code] = AuthorizationCode(
        code, account.id, client_id, scope, state.now() + CODE_TTL_SECONDS
    )
    return _back(redirect_uri, {"code": code, "scope": scope, **echo})


def _token_body(account: ConnectedAccount, access: str, refresh: str, scope: str) -> dict[str, object]:
    return {
        "access_token": access,
        "livemode": False,
        "refresh_token": refresh,
        "scope": scope,
        "stripe_publishable_key": account.publishable_key,
        "stripe_user_id": account.id,
        "token_type": "bearer",
    }


async def token(state: SandboxState, request: Request) -> Response:
    """POST /oauth/token: exchange a code, or a refresh token, for an access token."""
    form = await _form(request)
    try:
        _secret_key(request, form)
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError(400, "invalid_request", "No grant type specified")
        if grant == "authorization_code":
            return JSONResponse(_exchange_code(state, form.get("code")))
        if grant == "refresh_token":
            return JSONResponse(_refresh(state, form.get("refresh_token"), form.get("scope")))
        raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant type: {grant}")
    except OAuthError as error:
        return error.response()


def _exchange_code(state: SandboxState, code: str | None) -> dict[str, object]:
    if not code:
        raise OAuthError(400, "invalid_request", "No authorization code provided")
    pending = state.connect.codes.get(code)
    if pending is None:
        raise OAuthError(400, "invalid_grant", f"Authorization code does not exist: {code}")
    account = state.connect.accounts[pending.account_id]
    if pending.used:
        state.connect.deauthorize(account)
        raise OAuthError(400, "invalid_grant", "This authorization code has already been used. All tokens "
                         "issued with this code have been revoked.")  # fmt: skip
    if state.now() > pending.expires_at:
        raise OAuthError(400, "invalid_grant", f"Authorization code expired: {code}")
    pending.used = True
    access, refresh = state.connect.issue_tokens(account)
    return _token_body(account, access, refresh, pending.scope)


def _refresh(state: SandboxState, refresh_token: str | None, scope: str | None) -> dict[str, object]:
    if not refresh_token:
        raise OAuthError(400, "invalid_request", "No refresh token provided")
    account = state.connect.by_refresh_token(refresh_token)
    if account is None:
        raise OAuthError(400, "invalid_grant", f"Invalid refresh token: {refresh_token[:7]}…")
    granted = scope or account.scope
    if granted not in SCOPES or (account.scope == "read_only" and granted == "read_write"):
        raise OAuthError(400, "invalid_scope", f"Invalid scope: {granted}")
    access, _ = state.connect.issue_tokens(account)
    account.refresh_tokens.pop()  # Stripe keeps the refresh token the platform already has
    return _token_body(account, access, refresh_token, granted)


def new_connection(state: SandboxState, account_id: str | None) -> dict[str, object]:
    """A Connect token response for a new connection (POST /__sandbox/tokens): to `account_id` (KeyError if
    unknown) or to a newly connected account, as if its owner had just approved the consent page."""
    client_id = state.options.connect_client_id
    if account_id is None:
        account = state.connect.connect(client_id, "read_write", "Sandbox Builders LLC")
    else:
        account = state.connect.accounts[account_id]
        account.authorized = True
    access, refresh = state.connect.issue_tokens(account)
    return _token_body(account, access, refresh, account.scope)


async def deauthorize(state: SandboxState, request: Request) -> Response:
    """POST /oauth/deauthorize: the platform disconnects an account (`client_id`, `stripe_user_id`)."""
    form = await _form(request)
    try:
        _secret_key(request, form)
        client_id = _check_client(state, form.get("client_id"))
        user_id = form.get("stripe_user_id")
        if not user_id:
            raise OAuthError(400, "invalid_request", "No stripe_user_id provided")
        account = state.connect.accounts.get(user_id)
        if account is None or not account.authorized:
            raise OAuthError(401, "invalid_client", f"This application is not connected to stripe account "
                             f"{user_id}, or that account does not exist.")  # fmt: skip
    except OAuthError as error:
        return error.response()
    state.connect.deauthorize(account)
    with state.acting_as(account.id):
        application = {"id": client_id, "object": "application", "name": "Sierra Suites (sandbox)"}
        state.emit("account.application.deauthorized", application, NO_REQUEST)
    return JSONResponse({"stripe_user_id": account.id})


def routes(state: SandboxState) -> list[Route]:
    """The OAuth routes, bound to one sandbox state."""

    def bind(
        handler: Callable[[SandboxState, Request], Awaitable[Response]],
    ) -> Callable[..., Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            state.requests_total += 1
            state.requests_by_endpoint[f"{request.method} {request.url.path}"] += 1
            return await handler(state, request)

        return endpoint

    return [
        Route("/oauth/authorize", bind(authorize), methods=["GET", "POST"]),
        Route("/oauth/token", bind(token), methods=["POST"]),
        Route("/oauth/deauthorize", bind(deauthorize), methods=["POST"]),
    ]
