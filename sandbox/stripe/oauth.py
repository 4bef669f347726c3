"""Stripe Connect OAuth (https://docs.stripe.com/connect/oauth-reference) on the kit's OAuth server, served as
connect.stripe.com does.

* `GET /oauth/authorize?response_type=code&client_id=ca_…&scope=read_write&redirect_uri=…&state=…`: a consent
  page; its form (`POST /oauth/authorize`) connects a new account and redirects to `redirect_uri` with `code`
  and `state`, or with `error=access_denied` when the user declines.
* `POST /oauth/token`: `grant_type=authorization_code` (`code`) or `refresh_token` (`refresh_token`); the
  platform's secret key authenticates (Bearer, Basic, or the `client_secret` parameter).
* `POST /oauth/deauthorize`: `client_id` and `stripe_user_id`; the account's tokens stop working.

The kit keeps the codes, grants (one per connection) and tokens; this subclass says what differs: the
platform's secret key as the client's credential, Stripe's consent page, token responses
(`stripe_user_id`, `stripe_publishable_key`, `livemode`, `scope`; tokens that do not expire; a refresh keeps
the refresh token), a reused code revoking the account, deauthorize, and OAuth errors with Stripe's
descriptions. Codes are single use and live five minutes. With a state file (`persist.connect_file`) the
kit keeps the grants (revocations included) and tokens, and the registry the accounts, across a restart;
codes stay in memory, as the kit's other providers' do.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.kit.oauth import AuthCode, Grant, OAuthPaths, OAuthServer, OAuthSpec, RefreshToken
from sandbox.stripe.accounts import ConnectedAccount
from sandbox.stripe.auth import authenticate, mask_key
from sandbox.stripe.errors import StripeError
from sandbox.stripe.forms import parse_query

if TYPE_CHECKING:
    from sandbox.stripe.state import SandboxState

__all__ = ["ConnectServer", "connect_spec"]

SCOPES = ("read_only", "read_write")
_FOREVER = 100 * 365 * 86_400  # Connect tokens do not expire
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


def connect_spec(client_id: str) -> OAuthSpec:
    """The kit's OAuth spec of the platform's one Connect application."""
    return OAuthSpec(
        client_id=client_id,
        client_secret="",
        paths=OAuthPaths(revoke=(), userinfo=None, discovery=()),
        tenant_param="stripe_user_id",
        tenant_in_token=True,
        tenant_key="stripe_user_id",
        rotation="non_rotating",
        code_ttl_s=300,
        access_ttl_s=_FOREVER,
        refresh_ttl_s=_FOREVER,
        refresh_hard_ttl_s=_FOREVER,
    )


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


def _back(redirect_uri: str, params: dict[str, str]) -> RedirectResponse:
    joiner = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{joiner}{urlencode(params)}", status_code=302)


def _error_page(error: OAuthError) -> Response:
    body = f"<!doctype html><h1>Stripe Connect error</h1><p>{html.escape(error.code)}: " \
           f"{html.escape(error.description)}</p>"  # fmt: skip
    return HTMLResponse(body, status_code=error.status)


class ConnectServer(OAuthServer):
    """connect.stripe.com's OAuth: the kit's server with Stripe's flow. `world` is the sandbox's state (its
    connected accounts, ids and events), set by the state that owns the kit."""

    world: SandboxState

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.used_codes: set[str] = set()

    def routes(self) -> list[BaseRoute]:
        """Stripe's three OAuth endpoints (no revoke, userinfo or discovery)."""
        return [
            Route("/oauth/authorize", self.authorize_endpoint, methods=["GET", "POST"]),
            Route("/oauth/token", self.token_endpoint, methods=["POST"]),
            Route("/oauth/deauthorize", self.deauthorize_endpoint, methods=["POST"]),
        ]

    def new_secret(self, kind: Literal["code", "refresh", "access"]) -> str:
        """`ac_…` codes, `rt_…` refresh tokens, `sk_test_…` access tokens (a secret key for the account)."""
        prefix, length = {"code": ("ac", 32), "refresh": ("rt", 80), "access": ("sk_test", 99)}[kind]
        taken: Mapping[str, object] = self.codes
        if kind != "code":
            taken = self.refresh if kind == "refresh" else self.access
        secret = self.world.connect.token(prefix, length)
        while secret in taken:  # a seeded sandbox draws the same values again after a restart
            secret = self.world.connect.token(prefix, length)
        return secret

    def reset(self) -> None:
        super().reset()
        self.used_codes.clear()

    # ------------------------------------------------------------ helpers

    def _secret_key(self, request: Request, form: dict[str, str]) -> str:
        """The platform secret key from the Authorization header or `client_secret`."""
        header = request.headers.get("authorization")
        try:
            if header:
                return authenticate(header)
            secret = form.get("client_secret")
            return authenticate(f"Bearer {secret}" if secret else None)
        except StripeError as error:
            raise OAuthError(401, "invalid_client", error.message) from None

    def _check_client(self, client_id: str | None) -> str:
        if not client_id:
            raise OAuthError(400, "invalid_request", "No client_id provided.")
        if client_id != self.spec.client_id:
            raise OAuthError(401, "invalid_client", f"No such application: '{client_id}'")
        return client_id

    def _redirect_uri(self, given: str | None) -> str:
        registered = self.world.options.connect_redirect_uris
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

    def account(self, grant: Grant) -> ConnectedAccount:
        return self.world.connect.accounts[grant.tenant_id]

    def deauthorize(self, account: ConnectedAccount) -> None:
        """The account disconnects the application: every token it was given stops working (for good: with a
        state file, the account and its revoked grants are kept so)."""
        self.world.connect.set_authorized(account, False)
        for grant in self.grants.values():
            if grant.tenant_id == account.id:
                self.revoke_grant(grant)

    def key_owner(self, key: str) -> str | None:
        """The connected account an access token belongs to (None: not a Connect token); a revoked or
        expired one is Stripe's 401."""
        at = self.access.get(key)
        if at is None:
            return None
        grant = self.grants.get(at.grant_id)
        if grant is None or grant.revoked or self.clock.timestamp() >= at.expires:
            raise StripeError(401, "invalid_request_error", f"Expired API Key provided: {mask_key(key)}")
        return at.tenant_id

    # ------------------------------------------------------------ authorize

    async def authorize_endpoint(self, request: Request) -> Response:
        """GET: the consent page; POST: the user's decision, answered with a redirect to `redirect_uri`."""
        self.stats.oauth["authorize"] += 1
        form = await _form(request)
        try:
            client_id = self._check_client(form.get("client_id"))
            redirect_uri = self._redirect_uri(form.get("redirect_uri"))
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
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, v in keep.items()
            )
            page = _PAGE.format(app=html.escape(client_id), scope=html.escape(scope), hidden=hidden)
            return HTMLResponse(page)
        if form.get("decision") != "allow":
            return _back(redirect_uri, {"error": "access_denied", **echo,
                                        "error_description": "The user denied your request"})  # fmt: skip
        business = form.get("business_name") or "Sandbox Builders LLC"
        account = self.world.connect.connect(client_id, scope, business)
        code = self.new_secret("code")
        expires = int(self.clock.timestamp()) + self.spec.code_ttl_s
        self.codes[code] = AuthCode(code, redirect_uri, account.id, scope, expires, None, None)
        return _back(redirect_uri, {"code": code, "scope": scope, **echo})

    # ------------------------------------------------------------ token

    def _issue(
        self, grant: Grant, refresh: RefreshToken | None, hard_header: bool, id_token: str | None = None
    ) -> dict[str, Any]:
        issued = super()._issue(grant, refresh, hard_header, id_token)
        account = self.account(grant)
        return {
            "access_token": issued["access_token"],
            "livemode": False,
            "refresh_token": refresh.token if refresh is not None else None,
            "scope": grant.scope,
            "stripe_publishable_key": account.publishable_key,
            "stripe_user_id": account.id,
            "token_type": "bearer",
        }

    def grant_for(self, tenant_id: str, scope: str = "") -> dict[str, Any]:
        """A Connect token response for a new connection to `tenant_id` (POST /__sandbox/tokens), as if its
        owner had just approved the consent page."""
        account = self.world.connect.accounts[tenant_id]
        self.world.connect.set_authorized(account, True)
        grant, rt = self._new_grant(tenant_id, account.scope)
        return self._issue(grant, rt, True)

    async def token_endpoint(self, request: Request) -> Response:
        """POST /oauth/token: exchange a code, or a refresh token, for an access token."""
        self.stats.oauth["token"] += 1
        form = await _form(request)
        try:
            self._secret_key(request, form)
            grant = form.get("grant_type")
            if not grant:
                raise OAuthError(400, "invalid_request", "No grant type specified")
            if grant == "authorization_code":
                return JSONResponse(self._exchange_code(form.get("code")))
            if grant == "refresh_token":
                return JSONResponse(self._refresh_token(form.get("refresh_token"), form.get("scope")))
            raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant type: {grant}")
        except OAuthError as error:
            return error.response()

    def _exchange_code(self, code: str | None) -> dict[str, Any]:
        if not code:
            raise OAuthError(400, "invalid_request", "No authorization code provided")
        pending = self.codes.get(code)
        if pending is None:
            raise OAuthError(400, "invalid_grant", f"Authorization code does not exist: {code}")
        account = self.world.connect.accounts[pending.tenant_id]
        if code in self.used_codes:
            self.deauthorize(account)
            raise OAuthError(400, "invalid_grant", "This authorization code has already been used. All "
                             "tokens issued with this code have been revoked.")  # fmt: skip
        if int(self.clock.timestamp()) > pending.expires:
            raise OAuthError(400, "invalid_grant", f"Authorization code expired: {code}")
        self.used_codes.add(code)
        grant, rt = self._new_grant(account.id, pending.scope)
        return self._issue(grant, rt, True)

    def _refresh_token(self, token: str | None, scope: str | None) -> dict[str, Any]:
        if not token:
            raise OAuthError(400, "invalid_request", "No refresh token provided")
        rt = self.refresh.get(token)
        grant = self.grants.get(rt.grant_id) if rt is not None else None
        if rt is None or grant is None or grant.revoked or rt.forced_expired:
            raise OAuthError(400, "invalid_grant", f"Invalid refresh token: {token[:7]}…")
        granted = scope or grant.scope
        if granted not in SCOPES or (grant.scope == "read_only" and granted == "read_write"):
            raise OAuthError(400, "invalid_scope", f"Invalid scope: {granted}")
        return self._issue(grant, rt, True) | {"scope": granted}  # Stripe keeps the refresh token

    # ------------------------------------------------------------ deauthorize

    async def deauthorize_endpoint(self, request: Request) -> Response:
        """POST /oauth/deauthorize: the platform disconnects an account (`client_id`, `stripe_user_id`)."""
        self.stats.oauth["deauthorize"] += 1
        form = await _form(request)
        try:
            self._secret_key(request, form)
            client_id = self._check_client(form.get("client_id"))
            user_id = form.get("stripe_user_id")
            if not user_id:
                raise OAuthError(400, "invalid_request", "No stripe_user_id provided")
            account = self.world.connect.accounts.get(user_id)
            if account is None or not account.authorized:
                raise OAuthError(401, "invalid_client", f"This application is not connected to stripe "
                                 f"account {user_id}, or that account does not exist.")  # fmt: skip
        except OAuthError as error:
            return error.response()
        self.deauthorize(account)
        self.world.application_deauthorized(account.id, client_id)
        return JSONResponse({"stripe_user_id": account.id})
