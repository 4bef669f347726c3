"""Xero's tokens on the kit, on SQLite and PostgreSQL, against a token endpoint that rotates with a
30-minute grace exactly as Xero does: eight workers refreshing at once send one refresh and meet no
invalid_grant; the keep-alive saves a refresh token before its 60 unused days end; connecting reads the
organisations from /connections."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import update

from connectors.kit import connect, oauth
from connectors.kit.tokens import DbTokenSource, access_context, refresh_context, sealed_token_values
from connectors.kit.upkeep import refresh_all
from connectors.xero.provider import XERO
from sierra_core.db.models import Integration
from sierra_core.db.types import utcnow
from tests import factories, fixtures
from tests.connectors.quickbooks.oauth_helpers import keyring
from tests.connectors.xero.identity import CLIENT, XeroIdentity

WORKERS = 8
BASE = "http://127.0.0.1:9"


def _app() -> oauth.App:
    return oauth.App(XERO, "local", *CLIENT, "http://127.0.0.1:9/oauth/xero/callback", local_base=BASE)


def _connection(sessions, ring, refresh_token: str, *, refreshed_days_ago: float = 0) -> uuid.UUID:
    with sessions.begin() as s:
        company_id = factories.company(s).id
        row = factories.integration(s, company_id, integration_type="xero", external_company_id="org-1")
        at = utcnow() - timedelta(days=refreshed_days_ago)
        tokens = oauth.TokenSet("xero-access-0", refresh_token, at + timedelta(minutes=30))
        for name, value in sealed_token_values(row.id, tokens, ring, at).items():
            setattr(row, name, value)
        row.connection_status, row.is_connected, row.is_active, row.connected_at = "connected", True, True, at
        return row.id


def _expire_access(sessions, integration_id) -> None:
    with sessions.begin() as s:
        s.execute(
            update(Integration)
            .where(Integration.id == integration_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


def _stored(sessions, ring, integration_id) -> tuple[str, str]:
    with sessions() as s:
        row = s.get(Integration, integration_id)
        return ring.open(row.access_token, access_context(row.id)), ring.open(
            row.refresh_token, refresh_context(row.id)
        )


def _all_at_once(work) -> list[object]:
    """`work(i)` in WORKERS threads released together; their results (or exceptions)."""
    start = threading.Barrier(WORKERS)
    results: list[object] = [None] * WORKERS

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # reported by the assertions on the results
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_eight_concurrent_refreshers_send_one_refresh_and_meet_no_invalid_grant(sessions):
    ring, identity = keyring(), XeroIdentity()
    integration_id = _connection(sessions, ring, identity.issue())
    _expire_access(sessions, integration_id)
    with httpx.Client(transport=httpx.MockTransport(identity)) as http:

        def worker(_: int) -> str:  # each worker its own token source, as separate processes would be
            return DbTokenSource(sessions, integration_id, ring, _app(), http).access_token()

        first = _all_at_once(worker)
        assert first == ["xero-access-1"] * WORKERS, first
        # Past the grace: the superseded token is dead at Xero, so only the stored rotation can work.
        identity.now += timedelta(minutes=31)
        _expire_access(sessions, integration_id)
        second = _all_at_once(worker)
        assert second == ["xero-access-2"] * WORKERS, second

        # Eight workers rejected with a 401 on the same token: one refresh, the others use it.
        def after_401(_: int) -> str:
            source = DbTokenSource(sessions, integration_id, ring, _app(), http)
            return source.refresh_after_401("xero-access-2")

        identity.now += timedelta(minutes=31)
        third = _all_at_once(after_401)
        assert third == ["xero-access-3"] * WORKERS, third
    assert identity.outcomes == {"refreshed": 3}  # 0 invalid_grant
    assert identity.used == ["xero-refresh-1", "xero-refresh-2", "xero-refresh-3"]
    assert _stored(sessions, ring, integration_id) == ("xero-access-3", "xero-refresh-4")


def test_the_rotation_grace_is_real_in_the_fake_xero():
    identity = XeroIdentity()
    old = identity.issue()
    with httpx.Client(transport=httpx.MockTransport(identity)) as http:
        oauth.refresh(http, _app(), old)
        identity.now += timedelta(minutes=29)
        oauth.refresh(http, _app(), old)  # a lost answer: the old token still works within the grace
        identity.now += timedelta(minutes=2)
        with pytest.raises(oauth.InvalidGrantError, match="sierra-sync connect xero"):
            oauth.refresh(http, _app(), old)
    assert identity.outcomes == {"refreshed": 2, "invalid_grant": 1}


def test_the_keep_alive_refreshes_a_refresh_token_nearing_the_end_of_its_unused_life(sessions):
    ring, identity = keyring(), XeroIdentity()
    now = identity.now
    idle_token = identity.issue(at=now - timedelta(days=45))
    young_token = identity.issue(at=now - timedelta(days=10))
    idle = _connection(sessions, ring, idle_token, refreshed_days_ago=45)
    young = _connection(sessions, ring, young_token, refreshed_days_ago=10)
    for integration_id in (idle, young):  # access tokens still fresh: only the keep-alive can act
        with sessions.begin() as s:
            s.execute(
                update(Integration)
                .where(Integration.id == integration_id)
                .values(expires_at=utcnow() + timedelta(minutes=25))
            )
    with httpx.Client(transport=httpx.MockTransport(identity)) as http:
        report = refresh_all(sessions, ring, {"xero": _app()}, http)
        assert (report.checked, report.kept_alive, report.refreshed, report.still_valid) == (2, 1, 0, 1)
        assert identity.used == [idle_token]
        # Twenty days on, the idle token would have passed its 60 days; the rotated one is 20 days old.
        identity.now += timedelta(days=20)
        assert not identity.usable(idle_token)
        _expire_access(sessions, idle)
        assert DbTokenSource(sessions, idle, ring, _app(), http).access_token().startswith("xero-access-")
    assert identity.outcomes["invalid_grant"] == 0


def _connections_answer(orgs: list[dict[str, str]]):
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/connect/token":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            assert form["grant_type"] == "authorization_code" and form["code_verifier"]
            body = {"access_token": "a1", "refresh_token": "r1", "expires_in": 1800, "token_type": "Bearer"}
            return httpx.Response(200, json=body)
        assert request.url.path == "/connections" and request.headers["authorization"] == "Bearer a1"
        return httpx.Response(200, json=orgs)

    return answer


def test_connecting_asks_for_pkce_and_offline_access_and_takes_the_single_organisation(sessions):
    ring, app = keyring(), _app()
    orgs = fixtures.ROOT.joinpath("xero", "connections.json").read_text()
    with sessions.begin() as s:
        company_id = factories.company(s).id
    auth = connect.begin(sessions, ring, app, company_id)
    query = {k: v[0] for k, v in parse_qs(urlsplit(auth.url).query).items()}
    assert auth.url.startswith(f"{BASE}/identity/connect/authorize?")
    assert query["scope"].split(" ")[-1] == "offline_access" and "accounting.transactions" in query["scope"]
    assert query["code_challenge_method"] == "S256" and query["response_type"] == "code"
    answer = _connections_answer(json.loads(orgs))
    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        integration_id = connect.complete(sessions, ring, app, http, state=query["state"], code="c1")
    with sessions() as s:
        row = s.get(Integration, integration_id)
        assert row.external_company_id == "fe79f7dd-b6d4-4a92-ba7b-538af6289c58"
        assert row.settings == {"external_company_name": "Demo Company (NZ)"}
        assert (row.connection_status, row.expires_at is not None) == ("connected", True)
