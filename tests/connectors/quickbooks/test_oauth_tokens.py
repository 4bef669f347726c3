"""OAuth connect, token refresh and key rotation against the local QBO sandbox, on both dialects."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from connectors.keyrotation import reseal_all
from connectors.kit import connect, oauth
from connectors.kit.tokens import DbTokenSource, ReauthorizationRequiredError
from sierra_core.crypto import generate_key
from sierra_core.db.models import Integration, OAuthState
from sierra_core.db.types import utcnow
from tests import factories
from tests.connectors.quickbooks import oauth_helpers as h
from tests.processes import communicate_all


@pytest.fixture
def http():
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.fixture
def company_id(sessions):
    with sessions.begin() as s:
        return factories.company(s, "O'Brien & Núñez Builders").id


def _connect(sessions, qbo, http, company_id, ring=None):
    return h.connect_company(sessions, qbo.url, http, company_id, ring)


def _issued(qbo):
    tokens = qbo.admin("GET", "tokens")
    return [t["token"] for t in tokens["access_tokens"]], [t["token"] for t in tokens["refresh_tokens"]]


def test_connect_round_trip_stores_sealed_tokens(sessions, qbo, http, company_id):
    integration_id, params, *_ = _connect(sessions, qbo, http, company_id)
    access, refresh = _issued(qbo)
    with sessions() as s:
        row = s.get(Integration, integration_id)
        assert row is not None
        assert (row.connection_status, row.is_connected, row.external_company_id) == (
            "connected",
            True,
            params["realmId"],
        )
        assert row.connected_at is not None and row.token_version == 1 and row.token_key_id == "k1"
        assert row.expires_at is not None and row.expires_at - utcnow() > timedelta(minutes=55)
        assert row.refresh_token_expires_at is not None and row.refresh_token_hard_expires_at is not None
        stored = " ".join(str(v) for v in (row.access_token, row.refresh_token))
        assert all(t not in stored for t in access + refresh)
        state = s.scalar(select(OAuthState))
        assert state is not None and state.consumed_at is not None
        assert params["state"] not in state.state  # only its hash is kept


def test_pkce_challenge_is_sent_and_checked(sessions, qbo, http, company_id):
    app, ring = h.local_app(qbo.url), h.keyring()
    app = oauth.discover(http, app)
    auth = connect.begin(sessions, ring, app, company_id)
    assert "code_challenge_method=S256" in auth.url and "code_challenge=" in auth.url
    params = h.consent(auth.url)
    with pytest.raises(oauth.InvalidGrantError):  # the right code with the wrong verifier is refused
        oauth.exchange_code(http, app, params["code"], "a-wrong-verifier-" + "x" * 40)


def test_state_is_single_use_and_forgeries_are_refused(sessions, qbo, http, company_id):
    _, params, app, ring = _connect(sessions, qbo, http, company_id)
    with pytest.raises(connect.ConnectError, match="already used"):
        connect.complete(
            sessions, ring, app, http, state=params["state"], code="x", callback={"realmId": "1"}
        )
    with pytest.raises(connect.ConnectError, match="CSRF"):
        connect.complete(sessions, ring, app, http, state="forged", code="x", callback={"realmId": "1"})


def test_expired_state_is_refused(sessions, qbo, http, company_id):
    app, ring = h.local_app(qbo.url), h.keyring()
    app = oauth.discover(http, app)
    auth = connect.begin(sessions, ring, app, company_id, ttl=timedelta(seconds=-1))
    params = h.consent(auth.url)
    with pytest.raises(connect.ConnectError, match="expired"):
        connect.complete(
            sessions,
            ring,
            app,
            http,
            state=params["state"],
            code=params["code"],
            callback={"realmId": params["realmId"]},
        )


def test_denied_consent_says_to_try_again(sessions, qbo, http, company_id):
    qbo.admin("POST", "oauth", {"consent": "deny"})
    with pytest.raises(connect.ConnectError, match="declined"):
        _connect(sessions, qbo, http, company_id)


def test_wrong_client_secret_is_one_actionable_error(sessions, qbo, http, company_id):
    app = h.local_app(qbo.url, secret="not-the-secret")
    ring = h.keyring()
    app = oauth.discover(http, app)
    auth = connect.begin(sessions, ring, app, company_id)
    params = h.consent(auth.url)
    with pytest.raises(oauth.InvalidClientError) as err:
        connect.complete(
            sessions,
            ring,
            app,
            http,
            state=params["state"],
            code=params["code"],
            callback={"realmId": params["realmId"]},
        )
    assert "blocks setup" in err.value.message and "not-the-secret" not in err.value.message


def test_valid_token_is_reused_and_near_expiry_refreshes(sessions, qbo, http, company_id):
    integration_id, _, app, ring = _connect(sessions, qbo, http, company_id)
    source = DbTokenSource(sessions, integration_id, ring, app, http)
    first = source.access_token()
    assert source.access_token() == first and source.refreshes == 0
    with sessions.begin() as s:
        s.execute(
            update(Integration)
            .where(Integration.id == integration_id)
            .values(expires_at=utcnow() + timedelta(minutes=4))
        )
    second = source.access_token()
    assert second != first and source.refreshes == 1
    with sessions() as s:
        row = s.get(Integration, integration_id)
        assert row is not None and row.token_version == 2
        assert row.expires_at is not None and row.expires_at - utcnow() > timedelta(minutes=55)
    # the rotated refresh token was stored: a further refresh with it works (grace is 0 in this sandbox)
    assert source.refresh_after_401(second) != second


def test_401_after_another_worker_refreshed_uses_its_token(sessions, qbo, http, company_id):
    integration_id, _, app, ring = _connect(sessions, qbo, http, company_id)
    a = DbTokenSource(sessions, integration_id, ring, app, http)
    b = DbTokenSource(sessions, integration_id, ring, app, http)
    stale = a.access_token()
    fresh = b.refresh_after_401(stale)
    assert a.refresh_after_401(stale) == fresh
    assert (a.refreshes, b.refreshes) == (0, 1)


def test_invalid_grant_marks_the_connection_expired(sessions, qbo, http, company_id):
    integration_id, params, app, ring = _connect(sessions, qbo, http, company_id)
    source = DbTokenSource(sessions, integration_id, ring, app, http)
    rejected = source.access_token()
    qbo.admin("POST", "tokens/expire", {"realm_id": params["realmId"], "kind": "all"})
    with pytest.raises(oauth.InvalidGrantError, match="Reconnect"):
        source.refresh_after_401(rejected)
    with sessions() as s:
        row = s.get(Integration, integration_id)
        assert row is not None
        assert (row.connection_status, row.is_connected) == ("expired", False)
        assert "connect quickbooks" in (row.status_message or "")
    with pytest.raises(ReauthorizationRequiredError):
        source.access_token()


def test_expired_connection_is_announced_to_subscribers(sessions, qbo, http, company_id):
    from sierra_core.db.models import WebhookSubscription
    from sierra_core.db.models.public_api import WebhookDelivery

    with sessions.begin() as s:
        s.add(
            WebhookSubscription(
                company_id=company_id,
                provider="outgoing",
                webhook_url="https://h.example/x",
                events=["integration.expired"],
                is_active=True,
            )
        )
    integration_id, params, app, ring = _connect(sessions, qbo, http, company_id)
    source = DbTokenSource(sessions, integration_id, ring, app, http)
    rejected = source.access_token()
    qbo.admin("POST", "tokens/expire", {"realm_id": params["realmId"], "kind": "all"})
    with pytest.raises(oauth.InvalidGrantError):
        source.refresh_after_401(rejected)
    with sessions() as s:
        deliveries = s.scalars(select(WebhookDelivery)).all()
    assert [d.event_type for d in deliveries] == ["integration.expired"]
    assert "connect quickbooks" in deliveries[0].payload["data"]["message"]


def test_eight_processes_one_expired_token_one_refresh(db, sessions, qbo, http, company_id):
    integration_id, _, *_ = _connect(sessions, qbo, http, company_id)
    with sessions.begin() as s:
        s.execute(update(Integration).where(Integration.id == integration_id).values(expires_at=utcnow()))
    before_access, _ = _issued(qbo)
    start_at = time.time() + 4.0
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.connectors.quickbooks.refresh_worker",
                db.url,
                str(integration_id),
                qbo.url,
                h.KEY_TEXT,
                str(start_at),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(8)
    ]
    outputs = communicate_all(procs, timeout=120)  # one timed out: none outlives the test
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    lines = [out.strip() for out, _ in outputs]
    assert not any("INVALID_GRANT" in line for line in lines)
    tokens = {line.split()[1] for line in lines}
    refreshes = sum(int(line.split()[3]) for line in lines)
    assert len(tokens) == 1, lines  # everyone ended with the one new token
    assert refreshes == 1, lines
    after_access, _ = _issued(qbo)
    assert len(after_access) == len(before_access) + 1  # the sandbox saw exactly one refresh grant


def test_disconnect_revokes_at_intuit_and_wipes_locally(sessions, qbo, http, company_id):
    integration_id, _, app, ring = _connect(sessions, qbo, http, company_id)
    assert connect.disconnect(sessions, ring, app, http, company_id) is True
    tokens = qbo.admin("GET", "tokens")
    assert all(t["revoked"] for t in tokens["refresh_tokens"])
    with sessions() as s:
        row = s.get(Integration, integration_id)
        assert row is not None
        assert (row.access_token, row.refresh_token, row.connection_status) == (None, None, "disconnected")
        assert row.disconnected_at is not None


def test_key_rotation_reseals_every_token(sessions, qbo, http, company_id):
    integration_id, _, app, old_ring = _connect(sessions, qbo, http, company_id)
    token = DbTokenSource(sessions, integration_id, old_ring, app, http).access_token()
    new_ring = h.keyring({"k2": generate_key()})
    assert new_ring.current.key_id == "k2"
    report = reseal_all(sessions, new_ring)
    assert (report.integrations_resealed, report.integrations_current) == (1, 0)
    assert reseal_all(sessions, new_ring).integrations_current == 1
    with sessions() as s:
        row = s.get(Integration, integration_id)
        assert row is not None and row.token_key_id == "k2"
        assert row.access_token is not None and row.access_token.startswith("v1.k2.")
    assert DbTokenSource(sessions, integration_id, new_ring, app, http).access_token() == token
    with pytest.raises(Exception, match="k2"):
        DbTokenSource(sessions, integration_id, old_ring, app, http).access_token()


def test_no_token_reaches_a_log_record(sessions, qbo, http, company_id, caplog):
    caplog.set_level(logging.DEBUG)
    integration_id, _, app, ring = _connect(sessions, qbo, http, company_id)
    source = DbTokenSource(sessions, integration_id, ring, app, http)
    source.refresh_after_401(source.access_token())
    access, refresh = _issued(qbo)
    assert len(access) >= 2
    text = "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    assert caplog.records  # httpx and our modules did log at DEBUG/INFO
    leaked = [t for t in access + refresh + ["local-secret"] if t in text]
    assert leaked == []
