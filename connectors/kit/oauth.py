"""OAuth 2.0 for any declared provider: discovery, the consent URL (state + PKCE S256), code exchange,
refresh, re-mint and revoke. Plain functions over an httpx.Client and a `Provider` declaration; no database
here (see connect.py and tokens.py).

Errors are SierraError subclasses whose messages say what to do; no token or secret ever appears in one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from connectors.kit.provider import Endpoints, Environment, OAuth2, Provider
from connectors.kit.urls import require_https
from sierra_core.db.types import utcnow
from sierra_core.errors import ConfigError, SierraError

__all__ = [
    "App",
    "InvalidClientError",
    "InvalidGrantError",
    "OAuthError",
    "TokenSet",
    "authorization_url",
    "code_challenge",
    "discover",
    "exchange_code",
    "new_code_verifier",
    "new_state",
    "refresh",
    "remint",
    "revoke",
]

log = logging.getLogger("sierra_sync.kit.oauth")


class OAuthError(SierraError):
    """The provider's OAuth server refused a request."""

    def __init__(self, message: str, *, code: str | None = None, retryable: bool = False) -> None:
        super().__init__(message, code=code)
        self.retryable = retryable


class InvalidGrantError(OAuthError):
    """The refresh token or code is no longer valid: the connection must be authorized again."""


class InvalidClientError(OAuthError):
    """The app's client id or secret is wrong."""


@dataclass(frozen=True)
class App:
    """One developer app of a provider in one environment: what its credentials block holds, as plain values.

    `local_base`: the local sandbox's base URL (environment `local` only). `scopes`: overrides the
    provider's default scopes. `endpoints` is resolved at construction; `with_endpoints` swaps in the URLs
    a discovery document gave.
    """

    provider: Provider
    environment: Environment
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    local_base: str | None = None
    scopes: tuple[str, ...] | None = None
    endpoints: Endpoints = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "endpoints", self.provider.endpoints(self.environment, self.local_base))
        title = self.provider.title
        require_https(self.redirect_uri, f"the {title} redirect URI (where the authorization code is sent)")
        for name, url in self.endpoints:
            if isinstance(url, str):
                require_https(url, f"the {title} {name.replace('_', ' ')} URL")

    @property
    def oauth(self) -> OAuth2:
        return self.provider.oauth

    @property
    def api_base_url(self) -> str:
        return self.endpoints.api_base.rstrip("/")

    @property
    def scope(self) -> str:
        return self.oauth.scope_separator.join(self.scopes if self.scopes is not None else self.oauth.scopes)

    def with_endpoints(self, endpoints: Endpoints) -> App:
        app = replace(self)
        object.__setattr__(app, "endpoints", endpoints)
        return app


@dataclass(frozen=True)
class TokenSet:
    """A token response, with expiry instants measured from just before the request was sent.

    `refresh_token` is None when the provider sent none (a non-rotating refresh keeps the old one; JWT and
    client-credentials grants have none). `extras` holds the declared extra fields (e.g. the account id).
    """

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime | None
    refresh_expires_at: datetime | None = None
    refresh_hard_expires_at: datetime | None = None
    token_type: str = "bearer"  # noqa: S105 - a token kind, not a secret
    scope: str | None = None
    extras: dict[str, str] = field(default_factory=dict)


def _retryable(err: BaseException) -> bool:
    return isinstance(err, httpx.TransportError) or (isinstance(err, OAuthError) and err.retryable)


_http_retry = retry(
    retry=retry_if_exception(_retryable),
    stop=stop_after_attempt(4),
    wait=wait_exponential_jitter(initial=1, max=8, jitter=0.5),
    reraise=True,
)


@_http_retry
def discover(http: httpx.Client, app: App) -> App:
    """`app` with the URLs of its environment's OpenID discovery document (when the provider has one)."""
    url = app.endpoints.discovery
    if not url:
        return app
    try:
        resp = http.get(url)
    except httpx.TransportError as err:
        log.warning("OAuth discovery of %s failed: %s", app.provider.title, type(err).__name__)
        raise
    if resp.status_code >= 500:
        title = app.provider.title
        raise OAuthError(f"{title}'s OAuth discovery answered {resp.status_code}", retryable=True)
    if resp.status_code != 200:
        raise ConfigError(f"OAuth discovery at {url} answered {resp.status_code}; check the environment")
    try:
        doc = resp.json()
        found = {
            "authorize": doc["authorization_endpoint"],
            "token": doc["token_endpoint"],
            "revoke": doc.get("revocation_endpoint") or app.endpoints.revoke,
            "userinfo": doc.get("userinfo_endpoint") or app.endpoints.userinfo,
        }
    except (KeyError, TypeError, ValueError) as missing:
        raise ConfigError(f"the OAuth discovery document at {url} lacks {missing}") from None
    for name, value in found.items():
        if value:
            require_https(value, f"the {app.provider.title} {name} URL from discovery")
    return app.with_endpoints(app.endpoints.model_copy(update=found))


def new_state() -> str:
    return secrets.token_urlsafe(32)


def new_code_verifier() -> str:
    return secrets.token_urlsafe(64)[:96]  # RFC 7636: 43-128 characters


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def authorization_url(app: App, state: str, verifier: str | None, **extra: str) -> str:
    """The consent URL: state, the declared extra parameters, and PKCE S256 when a verifier is given.
    `extra` adds query parameters (e.g. a sandbox's `realm_id`)."""
    if not app.endpoints.authorize:
        raise ConfigError(f"{app.provider.title} has no consent page: it does not use the code flow")
    params = {
        "client_id": app.client_id,
        "response_type": "code",
        "redirect_uri": app.redirect_uri,
        "state": state,
        **app.oauth.authorize_params,
    }
    if app.scope:
        params["scope"] = app.scope
    if verifier:
        params |= {"code_challenge": code_challenge(verifier), "code_challenge_method": "S256"}
    params |= extra
    sep = "&" if "?" in app.endpoints.authorize else "?"
    return f"{app.endpoints.authorize}{sep}{urlencode(params)}"


def _raise_for_oauth(app: App, resp: httpx.Response, action: str) -> None:
    if resp.status_code < 400:
        return
    title = app.provider.title
    if resp.status_code >= 500 or resp.status_code == 429:
        raise OAuthError(f"{title}'s OAuth server answered {resp.status_code} to {action}", retryable=True)
    try:
        body: Any = resp.json()
    except (json.JSONDecodeError, ValueError):
        body = {}
    error = str((body.get("error") if isinstance(body, dict) else None) or f"http_{resp.status_code}")
    if error == "invalid_grant":
        raise InvalidGrantError(
            f"{title} no longer accepts this connection's authorization (invalid_grant): the refresh token "
            f"expired or was revoked. Reconnect with `sierra-sync connect {app.provider.name} --company …`.",
            code=error,
        )
    if error == "invalid_client" or resp.status_code == 401:
        raise InvalidClientError(
            f"{title} rejected the app's client id or secret (invalid_client); fix them in the {title} app "
            "block (`sierra-sync blocks setup`).",
            code=error,
        )
    raise OAuthError(f"{title} refused {action}: {error}", code=error)


def _seconds(body: dict[str, Any], key: str | None) -> int | None:
    if key is None or body.get(key) is None:
        return None
    return int(body[key])


def _expires_at(app: App, body: dict[str, Any], sent_at: datetime) -> datetime | None:
    how = app.oauth.token.expires
    if how == "never":
        return None
    if how == "expires_at":
        return datetime.fromisoformat(str(body["expires_at"]).replace("Z", "+00:00"))
    return sent_at + timedelta(seconds=int(body["expires_in"]))


def _token_set(app: App, body: Any, sent_at: datetime) -> TokenSet:
    fields = app.oauth.token
    try:
        if not isinstance(body, dict):
            raise TypeError
        access = str(body["access_token"])
        expires_at = _expires_at(app, body, sent_at)
        rolling = _seconds(body, fields.refresh_expires_in)
        hard = _seconds(body, fields.refresh_hard_expires_in)
        extras = {ours: str(body[theirs]) for ours, theirs in fields.extras.items() if body.get(theirs)}
    except (KeyError, TypeError, ValueError):
        raise OAuthError(
            f"{app.provider.title}'s token response lacks access_token or its expiry ({fields.expires})"
        ) from None
    return TokenSet(
        access_token=access,
        refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
        expires_at=expires_at,
        refresh_expires_at=sent_at + timedelta(seconds=rolling) if rolling is not None else None,
        refresh_hard_expires_at=sent_at + timedelta(seconds=hard) if hard is not None else None,
        token_type=str(body.get("token_type", "bearer")),
        scope=str(body["scope"]) if body.get("scope") else None,
        extras=extras,
    )


def _client_auth(app: App, how: str, fields: dict[str, str]) -> tuple[dict[str, str], Any]:
    """The request fields and httpx `auth` for the declared client authentication."""
    if how == "basic":
        return fields, (app.client_id, app.client_secret)
    if how == "body":
        return {**fields, "client_id": app.client_id, "client_secret": app.client_secret}, None
    if how == "secret_body":
        return {**fields, "client_secret": app.client_secret}, None
    if how == "secret_basic":
        return fields, (app.client_secret, "")
    return fields, None


def _post(app: App, http: httpx.Client, url: str, fields: dict[str, str], auth: Any, encoding: str) -> Any:
    headers = {"Accept": "application/json", "x-include-refresh-token-hard-expires-in": "true"}
    if encoding == "json":
        return http.post(url, json=fields, auth=auth, headers=headers)
    return http.post(url, data=fields, auth=auth, headers=headers)


@_http_retry
def _token_request(http: httpx.Client, app: App, fields: dict[str, str]) -> TokenSet:
    if not app.endpoints.token:
        raise ConfigError(f"{app.provider.title} has no token URL in the {app.environment} environment")
    sent_at = utcnow()  # expiry counts from before the request (a slow answer must not extend it)
    body, auth = _client_auth(app, app.oauth.token_auth, fields)
    resp = _post(app, http, app.endpoints.token, body, auth, app.oauth.token_encoding)
    _raise_for_oauth(app, resp, f"the {fields['grant_type']} grant")
    try:
        payload = resp.json()
    except (json.JSONDecodeError, ValueError):
        raise OAuthError(f"{app.provider.title}'s token response is not JSON") from None
    return _token_set(app, payload, sent_at)


def exchange_code(http: httpx.Client, app: App, code: str, verifier: str | None) -> TokenSet:
    """Trade an authorization code (and its PKCE verifier) for tokens."""
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri}
    if verifier:
        fields["code_verifier"] = verifier
    return _token_request(http, app, fields)


def refresh(http: httpx.Client, app: App, refresh_token: str) -> TokenSet:
    """Trade a refresh token for a new access token (and, when the provider rotates, a new refresh token)."""
    return _token_request(http, app, {"grant_type": "refresh_token", "refresh_token": refresh_token})


def remint(http: httpx.Client, app: App, assertion: str | None = None) -> TokenSet:
    """A new access token from the app's own credentials: client credentials, or a signed JWT assertion."""
    if app.oauth.mode == "jwt_bearer":
        if not assertion:
            raise ConfigError(f"{app.provider.title} needs a signed JWT assertion to mint a token")
        fields = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
    else:
        fields = {"grant_type": "client_credentials"}
        if app.scope:
            fields["scope"] = app.scope
    return _token_request(http, app, fields)


@_http_retry
def revoke(http: httpx.Client, app: App, token: str | None, external_company_id: str | None = None) -> None:
    """End the connection at the provider (revoke the token, or deauthorize the account)."""
    url = app.endpoints.revoke
    if not url:
        return  # the provider has no revocation: forgetting the tokens here is all there is
    values = {
        "token": token or "",
        "client_id": app.client_id,
        "external_company_id": external_company_id or "",
    }
    fields = {k: v.format(**values) for k, v in app.oauth.revoke_body.items()}
    how = app.oauth.revoke_auth
    if how == "bearer":
        resp = http.post(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    else:
        body, auth = _client_auth(app, how, fields)
        resp = _post(app, http, url, body, auth, app.oauth.revoke_encoding)
    if resp.status_code == 400:
        return  # already invalid: the goal (no usable token) holds
    _raise_for_oauth(app, resp, "the revoke request")
