"""The kit's token store for each refresh kind, on both dialects, against a token endpoint on
httpx.MockTransport: what is stored, when the provider is called, and what a dead grant does."""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import parse_qs

import httpx
import pytest
from sqlalchemy import update

from connectors.kit import oauth
from connectors.kit.tokens import (
    DbTokenSource,
    ReauthorizationRequiredError,
    access_context,
    refresh_context,
    sealed_token_values,
)
from connectors.kit.upkeep import refresh_all
from connectors.stripe.provider import STRIPE
from sierra_core.db.models import Integration
from sierra_core.db.types import utcnow
from tests import factories
from tests.connectors.kit import providers as p
from tests.connectors.quickbooks.oauth_helpers import keyring


class TokenServer:
    """A token endpoint: rotates (new refresh token per refresh) or not, or refuses with invalid_grant."""

    def __init__(self, *, rotate: bool, refuse: bool = False) -> None:
        self.rotate, self.refuse = rotate, refuse
        self.refreshes: list[str] = []
        self.on_refresh: list[object] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.refreshes.append(form["refresh_token"])
        for hook in self.on_refresh:
            hook()  # type: ignore[operator]
        if self.refuse:
            return httpx.Response(400, json={"error": "invalid_grant"})
        n = len(self.refreshes)
        body = {"access_token": f"access-{n}", "expires_in": 1800}
        if self.rotate:
            body["refresh_token"] = f"refresh-{n}"
        return httpx.Response(200, json=body)


def _app(provider=p.ROTATING) -> oauth.App:
    return oauth.App(provider, "production", "client-1", "secret-1", "https://sync.example.com/cb")


def _connection(sessions, ring, *, expires_in: timedelta | None, refresh: str | None = "refresh-0"):
    with sessions.begin() as s:
        company_id = factories.company(s).id
        row = factories.integration(s, company_id, integration_type="other")
        tokens = oauth.TokenSet(
            "access-0", refresh, utcnow() + expires_in if expires_in is not None else None
        )
        for name, value in sealed_token_values(row.id, tokens, ring, utcnow()).items():
            setattr(row, name, value)
        row.connection_status, row.is_connected, row.is_active = "connected", True, True
        row.connected_at = utcnow()
        return row.id


def _stored(sessions, ring, integration_id):
    with sessions() as s:
        row = s.get(Integration, integration_id)
        refresh = ring.open(row.refresh_token, refresh_context(row.id)) if row.refresh_token else None
        return ring.open(row.access_token, access_context(row.id)), refresh, row.token_version, row


@pytest.mark.parametrize(("provider", "rotate"), [(p.ROTATING, True), (p.NON_ROTATING, False)])
def test_a_due_token_is_refreshed_once_and_a_missing_refresh_token_keeps_the_old_one(
    sessions, provider, rotate
):
    ring, server = keyring(), TokenServer(rotate=rotate)
    integration_id = _connection(sessions, ring, expires_in=timedelta(minutes=2))
    with httpx.Client(transport=httpx.MockTransport(server)) as http:
        source = DbTokenSource(sessions, integration_id, ring, _app(provider), http)
        assert source.access_token() == "access-1"
        assert source.access_token() == "access-1"  # fresh now: no second refresh
    access, refresh, version, _ = _stored(sessions, ring, integration_id)
    assert server.refreshes == ["refresh-0"] and access == "access-1" and version == 1
    assert refresh == ("refresh-1" if rotate else "refresh-0")


def test_tokens_that_never_expire_are_never_refreshed_and_a_401_asks_for_a_person(sessions):
    ring, server = keyring(), TokenServer(rotate=False)
    integration_id = _connection(sessions, ring, expires_in=None, refresh=None)
    app = oauth.App(STRIPE, "production", "ca_1", "sk_test_1", "https://sync.example.com/cb")
    with httpx.Client(transport=httpx.MockTransport(server)) as http:
        source = DbTokenSource(sessions, integration_id, ring, app, http)
        assert source.access_token() == "access-0"
        with pytest.raises(ReauthorizationRequiredError, match="revoked"):
            source.refresh_after_401("access-0")
    assert server.refreshes == []


def test_a_dead_grant_expires_the_connection_with_a_message_and_stops_asking(sessions):
    ring, server = keyring(), TokenServer(rotate=True, refuse=True)
    integration_id = _connection(sessions, ring, expires_in=timedelta(seconds=-1))
    with httpx.Client(transport=httpx.MockTransport(server)) as http:
        source = DbTokenSource(sessions, integration_id, ring, _app(), http, settle=timedelta(0))
        with pytest.raises(oauth.InvalidGrantError):
            source.access_token()
        with pytest.raises(ReauthorizationRequiredError, match="sierra-sync connect other"):
            source.access_token()
    _, _, _, row = _stored(sessions, ring, integration_id)
    assert (row.connection_status, row.is_connected) == ("expired", False)
    assert len(server.refreshes) == 1


def test_invalid_grant_after_a_sibling_rotated_the_token_uses_the_siblings_token(sessions):
    """A refresh outside our lock (a lock that timed out, another deployment, a writer queued on our lock)
    rotated the token while ours was in flight: the provider says invalid_grant, and we must use the
    sibling's token, not expire the connection (which would stop every sync until a person reconnects)."""
    ring, server = keyring(), TokenServer(rotate=True, refuse=True)
    integration_id = _connection(sessions, ring, expires_in=timedelta(seconds=-1))
    writing, done = threading.Event(), threading.Event()

    def sibling() -> None:
        tokens = oauth.TokenSet("sibling-access", "sibling-refresh", utcnow() + timedelta(hours=1))
        values = sealed_token_values(integration_id, tokens, ring, utcnow())
        with sessions.begin() as s:  # waits for our lock, lands just after our first transaction
            writing.set()
            s.execute(
                update(Integration)
                .where(Integration.id == integration_id)
                .values(**values, token_version=Integration.token_version + 1)
            )
        done.set()

    def start_sibling() -> None:
        threading.Thread(target=sibling, daemon=True).start()
        assert writing.wait(10)

    server.on_refresh.append(start_sibling)
    with httpx.Client(transport=httpx.MockTransport(server)) as http:
        source = DbTokenSource(sessions, integration_id, ring, _app(), http, settle=timedelta(seconds=10))
        assert source.access_token() == "sibling-access"
    assert done.wait(10)
    _, refresh, _, row = _stored(sessions, ring, integration_id)
    assert row.connection_status == "connected" and refresh == "sibling-refresh"
    assert len(server.refreshes) == 1


def test_the_keep_alive_refresh_saves_a_refresh_token_about_to_die_unused(sessions):
    ring, server = keyring(), TokenServer(rotate=True)
    young = _connection(sessions, ring, expires_in=timedelta(hours=5))
    old = _connection(sessions, ring, expires_in=timedelta(hours=5))
    with sessions.begin() as s:  # 31 days without a refresh: past half of the 60-day lifetime
        s.execute(
            update(Integration)
            .where(Integration.id == old)
            .values(
                token_refreshed_at=utcnow() - timedelta(days=31), connected_at=utcnow() - timedelta(days=31)
            )
        )
    with httpx.Client(transport=httpx.MockTransport(server)) as http:
        report = refresh_all(sessions, ring, {"other": _app()}, http)
    assert (report.checked, report.kept_alive, report.refreshed, report.still_valid) == (2, 1, 0, 1)
    assert _stored(sessions, ring, old)[1] == "refresh-1" and _stored(sessions, ring, young)[1] == "refresh-0"
