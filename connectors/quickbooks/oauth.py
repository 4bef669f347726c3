"""Intuit OAuth 2.0 for QuickBooks Online: discovery, authorization URL (state + PKCE S256), code exchange,
refresh and revoke. Plain functions over an httpx.Client; no database here (see connect.py, tokens.py).

Errors come back as SierraError subclasses whose messages say what to do; no token or secret ever
appears in one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from connectors.db.types import utcnow
from sierra_sync.errors import ConfigError, SierraError

log = logging.getLogger("sierra_sync.qbo.oauth")

ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
DISCOVERY_URLS = {
    "production": "https://developer.api.intuit.com/.well-known/openid_configuration",
    "sandbox": "https://developer.api.intuit.com/.well-known/openid_sandbox_configuration",
}
API_BASE_URLS = {
    "production": "https://quickbooks.api.intuit.com",
    "sandbox": "https://sandbox-quickbooks.api.intuit.com",
}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class OAuthError(SierraError):
    """Intuit's OAuth server refused a request."""

    def __init__(self, message: str, *, code: str | None = None, retryable: bool = False) -> None:
        super().__init__(message, code=code)
        self.retryable = retryable


class InvalidGrantError(OAuthError):
    """The refresh token or code is no longer valid: the connection must be authorized again."""


class InvalidClientError(OAuthError):
    """The app's client id or secret is wrong."""


def is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOOPBACK_HOSTS


def require_https(url: str, what: str) -> None:
    """ConfigError (one line) unless `url` is https with a host, or plain http to a loopback host."""
    parts = urlsplit(url)
    if not parts.hostname or (parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(url))):
        raise ConfigError(f"{what} must use https (plain http is allowed only on loopback): {url}")


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str
    revocation: str
    userinfo: str | None = None
    issuer: str | None = None
    jwks: str | None = None


@dataclass(frozen=True)
class OAuthApp:
    """One Intuit developer app: what the QuickBooks credentials block holds, as plain values."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    environment: str  # production | sandbox | local
    discovery_url: str
    api_base_url: str
    scopes: tuple[str, ...] = (ACCOUNTING_SCOPE,)

    def __post_init__(self) -> None:
        require_https(self.discovery_url, "the OAuth discovery URL")
        require_https(self.api_base_url, "the QuickBooks API base URL")
        if self.environment != "local":  # Intuit sends the authorization code there: never in clear
            require_https(self.redirect_uri, f"the redirect URI of a {self.environment} Intuit app")


@dataclass(frozen=True)
class TokenSet:
    """A token response, with expiry instants measured from just before the request was sent."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    refresh_expires_at: datetime | None
    refresh_hard_expires_at: datetime | None
    token_type: str = "bearer"  # noqa: S105 - a token kind, not a secret
    scope: str | None = None


def _retryable(err: BaseException) -> bool:
    return isinstance(err, httpx.TransportError) or (isinstance(err, OAuthError) and err.retryable)


_http_retry = retry(
    retry=retry_if_exception(_retryable),
    stop=stop_after_attempt(4),
    wait=wait_exponential_jitter(initial=1, max=8, jitter=0.5),
    reraise=True,
)


@_http_retry
def discover(http: httpx.Client, discovery_url: str) -> Endpoints:
    """Read the OpenID discovery document (one per Intuit environment; the sandbox serves its own)."""
    try:
        resp = http.get(discovery_url)
    except httpx.TransportError as err:
        log.warning("OAuth discovery at %s failed: %s", discovery_url, type(err).__name__)
        raise
    if resp.status_code >= 500:
        raise OAuthError(f"OAuth discovery answered {resp.status_code}", retryable=True)
    if resp.status_code != 200:
        raise ConfigError(
            f"OAuth discovery at {discovery_url} answered {resp.status_code}; check the environment"
        )
    doc = resp.json()
    try:
        return Endpoints(
            authorization=doc["authorization_endpoint"],
            token=doc["token_endpoint"],
            revocation=doc["revocation_endpoint"],
            userinfo=doc.get("userinfo_endpoint"),
            issuer=doc.get("issuer"),
            jwks=doc.get("jwks_uri"),
        )
    except KeyError as missing:
        raise ConfigError(f"OAuth discovery document at {discovery_url} lacks {missing}") from None


def new_state() -> str:
    return secrets.token_urlsafe(32)


def new_code_verifier() -> str:
    return secrets.token_urlsafe(64)[:96]  # RFC 7636: 43-128 characters


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def authorization_url(app: OAuthApp, endpoints: Endpoints, state: str, verifier: str, **extra: str) -> str:
    """The consent URL (state and PKCE S256 included). `extra` adds query parameters (e.g. the sandbox's
    `realm_id`)."""
    params = {
        "client_id": app.client_id,
        "response_type": "code",
        "scope": " ".join(app.scopes),
        "redirect_uri": app.redirect_uri,
        "state": state,
        "code_challenge": code_challenge(verifier),
        "code_challenge_method": "S256",
        **extra,
    }
    sep = "&" if "?" in endpoints.authorization else "?"
    return f"{endpoints.authorization}{sep}{urlencode(params)}"


def _raise_for_oauth(resp: httpx.Response, action: str) -> None:
    if resp.status_code < 400:
        return
    if resp.status_code >= 500 or resp.status_code == 429:
        raise OAuthError(f"Intuit's OAuth server answered {resp.status_code} to {action}", retryable=True)
    try:
        body: dict[str, Any] = resp.json()
    except (json.JSONDecodeError, ValueError):
        body = {}
    error = str(body.get("error") or f"http_{resp.status_code}")
    if error == "invalid_grant":
        raise InvalidGrantError(
            "QuickBooks no longer accepts this connection's authorization (invalid_grant): the refresh token "
            "expired or was revoked. Reconnect with `sierra-sync connect quickbooks --company …`.",
            code=error,
        )
    if error == "invalid_client" or resp.status_code == 401:
        raise InvalidClientError(
            "Intuit rejected the app's client id or secret (invalid_client); fix them in the QuickBooks app "
            "block (`sierra-sync blocks setup`).",
            code=error,
        )
    raise OAuthError(f"Intuit refused {action}: {error}", code=error)


def _token_set(body: dict[str, Any], sent_at: datetime) -> TokenSet:
    try:
        access, refresh = body["access_token"], body["refresh_token"]
        expires_in = int(body["expires_in"])
    except (KeyError, TypeError, ValueError):
        raise OAuthError(
            "Intuit's token response is missing access_token, refresh_token or expires_in"
        ) from None
    rolling = body.get("x_refresh_token_expires_in")
    hard = body.get("x_refresh_token_hard_expires_in")
    return TokenSet(
        access_token=access,
        refresh_token=refresh,
        expires_at=sent_at + timedelta(seconds=expires_in),
        refresh_expires_at=sent_at + timedelta(seconds=int(rolling)) if rolling is not None else None,
        refresh_hard_expires_at=sent_at + timedelta(seconds=int(hard)) if hard is not None else None,
        token_type=str(body.get("token_type", "bearer")),
        scope=body.get("scope"),
    )


@_http_retry
def _token_request(http: httpx.Client, app: OAuthApp, endpoints: Endpoints, form: dict[str, str]) -> TokenSet:
    sent_at = utcnow()  # expiry counts from before the request (a slow answer must not extend it)
    resp = http.post(
        endpoints.token,
        data=form,
        auth=(app.client_id, app.client_secret),
        headers={"Accept": "application/json", "x-include-refresh-token-hard-expires-in": "true"},
    )
    _raise_for_oauth(resp, f"the {form['grant_type']} grant")
    return _token_set(resp.json(), sent_at)


def exchange_code(
    http: httpx.Client, app: OAuthApp, endpoints: Endpoints, code: str, verifier: str | None
) -> TokenSet:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri}
    if verifier:
        form["code_verifier"] = verifier
    return _token_request(http, app, endpoints, form)


def refresh(http: httpx.Client, app: OAuthApp, endpoints: Endpoints, refresh_token: str) -> TokenSet:
    return _token_request(
        http, app, endpoints, {"grant_type": "refresh_token", "refresh_token": refresh_token}
    )


@_http_retry
def revoke(http: httpx.Client, app: OAuthApp, endpoints: Endpoints, token: str) -> None:
    """Revoke a refresh (or access) token at Intuit: the whole connection ends."""
    resp = http.post(
        endpoints.revocation,
        json={"token": token},
        auth=(app.client_id, app.client_secret),
        headers={"Accept": "application/json"},
    )
    if resp.status_code == 400:
        return  # already invalid: the goal (no usable token) holds
    _raise_for_oauth(resp, "the revoke request")
