"""Helpers for OAuth tests: a local OAuthApp, a keyring, and walking the sandbox's auto-consent."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx

from connectors.kit import oauth
from connectors.quickbooks.provider import QUICKBOOKS
from sierra_core.crypto import Keyring, generate_key

KEY_TEXT = generate_key()
KEY_CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def keyring(extra: dict[str, str] | None = None) -> Keyring:
    keys = {"k1": KEY_TEXT, **(extra or {})}
    created = {k: KEY_CREATED if k == "k1" else datetime.now(UTC) for k in keys}
    return Keyring.from_encoded(keys, created)


def local_app(base_url: str, secret: str = "local-secret") -> oauth.App:
    return oauth.App(
        provider=QUICKBOOKS,
        environment="local",
        client_id="local-client",
        client_secret=secret,
        redirect_uri="http://127.0.0.1:9/oauth/quickbooks/callback",
        local_base=base_url,
    )


def consent(url: str) -> dict[str, str]:
    """Follow the sandbox's authorize endpoint and return the callback's query parameters."""
    resp = httpx.get(url, follow_redirects=False, timeout=10)
    assert resp.status_code in (302, 303), resp.text
    query = parse_qs(urlsplit(resp.headers["location"]).query)
    return {k: v[0] for k, v in query.items()}


def connect_company(sessions, qbo_url: str, http: httpx.Client, company_id, ring: Keyring | None = None):
    """Run the whole consent against the sandbox; returns (integration id, callback params, app, keyring)."""
    from connectors.kit import connect

    app, ring = local_app(qbo_url), ring or keyring()
    app = oauth.discover(http, app)
    auth = connect.begin(sessions, ring, app, company_id)
    params = consent(auth.url)
    integration_id = connect.complete(
        sessions,
        ring,
        app,
        http,
        state=params["state"],
        code=params.get("code"),
        callback=params,
        error=params.get("error"),
    )
    return integration_id, params, app, ring
