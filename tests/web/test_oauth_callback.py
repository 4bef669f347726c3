"""GET /oauth/{provider}/callback completes a QuickBooks connection against the QBO sandbox (the kit's
connect.complete; /oauth/quickbooks/ is the alias Intuit apps registered before the kit)."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select

from connectors.kit import connect, oauth
from sierra_core.db.models import Integration, WebhookEvent
from sierra_sync.web import AppDeps
from sierra_sync.web.oauth_callback import OAuthCallbacks
from tests import factories
from tests.connectors.quickbooks import oauth_helpers as h
from tests.web.conftest import VERIFIER, wait_for


@pytest.fixture
def http():
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.fixture
def callback_app(sessions, qbo, http, web_server):
    app, ring = h.local_app(qbo.url), h.keyring()
    deps = AppDeps(
        sessions=sessions,
        webhook_secrets={"quickbooks_online": [VERIFIER]},
        oauth=OAuthCallbacks(sessions, ring, {"quickbooks_online": app}, http=http),
    )
    with web_server.serve(deps) as client:
        yield client, app, ring


def _consent(sessions, http, app, ring):
    with sessions.begin() as s:
        company_id = factories.company(s).id
    app = oauth.discover(http, app)
    auth = connect.begin(sessions, ring, app, company_id)
    return company_id, h.consent(auth.url)


def test_the_callback_connects_the_company_and_logs_no_code(callback_app, sessions, http, caplog):
    client, app, ring = callback_app
    company_id, params = _consent(sessions, http, app, ring)
    with caplog.at_level(logging.DEBUG):
        response = client.get(f"/oauth/quickbooks/callback?{urlencode(params)}")
    assert response.status_code == 200 and "QuickBooks Online is connected" in response.text
    with sessions() as s:
        row = s.scalar(select(Integration).where(Integration.company_id == company_id))
        assert row is not None and row.connection_status == "connected"
        assert row.external_company_id == params["realmId"]
    ours = " ".join(r.getMessage() for r in caplog.records if r.name.startswith(("sierra_sync", "uvicorn")))
    assert "QuickBooks Online connected through the OAuth callback" in ours
    assert params["code"] not in ours and params["state"] not in ours
    # The state is single use: replaying the same redirect is refused with a page that says what to do.
    again = client.get(f"/oauth/quickbooks/callback?{urlencode(params)}")
    assert again.status_code == 400 and "already used" in again.text
    assert "sierra-sync connect quickbooks" in again.text


def test_forged_missing_or_denied_callbacks_are_refused(callback_app, sessions, http):
    client, app, ring = callback_app
    assert client.get("/oauth/quickbooks/callback?code=x&realmId=1").status_code == 400
    forged = client.get("/oauth/quickbooks/callback?state=forged&code=x&realmId=1")
    assert forged.status_code == 400 and "CSRF" in forged.text
    _, params = _consent(sessions, http, app, ring)
    denied = client.get(
        f"/oauth/quickbooks/callback?{urlencode({'state': params['state'], 'error': 'access_denied'})}"
    )
    assert denied.status_code == 400 and "declined" in denied.text
    with sessions() as s:
        assert s.scalar(select(Integration)) is None


def test_connected_realm_maps_real_signed_intuit_webhooks(callback_app, sessions, http, qbo, web_server):
    client, app, ring = callback_app
    company_id, params = _consent(sessions, http, app, ring)
    assert client.get(f"/oauth/quickbooks/callback?{urlencode(params)}").status_code == 200
    access = qbo.admin("GET", "tokens")["access_tokens"][-1]["token"]
    qbo.admin(
        "POST", "webhooks", {"url": f"{web_server.url}/webhooks/quickbooks", "verifier_token": VERIFIER}
    )
    try:
        created = http.post(
            f"{qbo.url}/v3/company/{params['realmId']}/customer",
            json={"DisplayName": "Webhook Builders"},
            headers={"Authorization": f"Bearer {access}", "Accept": "application/json"},
        )
        assert created.status_code == 200, created.text
        qbo.admin("POST", "webhooks/flush")
    finally:
        qbo.admin("POST", "webhooks", {"url": None})

    def stored():
        with sessions() as s:
            return list(s.scalars(select(WebhookEvent).where(WebhookEvent.provider == "quickbooks_online")))

    wait_for(lambda: stored())
    [row] = stored()
    assert row.event_type == "qbo.customer.created" and row.company_id == company_id
    assert row.payload["entityId"] == created.json()["Customer"]["Id"]
