"""The project's connector connects a company to Stripe (Connect OAuth) against the local Stripe sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from connectors.kit import connect, oauth
from connectors.stripe.provider import STRIPE
from sandbox.common.server import LocalServer
from sandbox.stripe import StripeSandboxOptions, create_app
from sierra_core.db.models import Integration
from tests import factories
from tests.connectors.quickbooks import oauth_helpers as h
from tests.sandbox.stripe.test_connect import REDIRECT, consent

PLATFORM_KEY = "sk_test_platform_for_connect_0001"


@pytest.fixture
def stripe_url() -> Iterator[str]:
    with LocalServer(create_app(StripeSandboxOptions(seed=16))) as server:
        yield server.url


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def _app(base: str) -> oauth.App:
    return oauth.App(
        provider=STRIPE,
        environment="local",
        client_id="ca_localsierrasandbox",
        client_secret=PLATFORM_KEY,
        redirect_uri=REDIRECT,
        local_base=base,
    )


def test_connect_stores_the_account_and_disconnect_deauthorizes_it(sessions, stripe_url, http):
    with sessions.begin() as s:
        company_id = factories.company(s, "Stripe Connect Builders").id
    app, ring = _app(stripe_url), h.keyring()
    auth = connect.begin(sessions, ring, app, company_id)
    params = consent(auth.url)
    integration_id = connect.complete(
        sessions, ring, app, http, state=params["state"], code=params.get("code"), callback=params
    )
    with sessions() as s:
        row = s.get(Integration, integration_id)
        assert row is not None and row.connection_status == "connected"
        account = row.external_company_id
    assert account is not None and account.startswith("acct_1")
    as_platform = {"Authorization": f"Bearer {PLATFORM_KEY}", "Stripe-Account": account}
    created = http.post(f"{stripe_url}/v1/customers", data={"name": "Theirs"}, headers=as_platform)
    assert created.status_code == 200
    assert connect.disconnect(sessions, ring, app, http, company_id) is True
    refused = http.get(f"{stripe_url}/v1/customers", headers=as_platform)
    assert refused.status_code == 403


def test_a_declined_consent_is_one_clear_error(sessions, stripe_url, http):
    with sessions.begin() as s:
        company_id = factories.company(s, "Declining Builders").id
    app, ring = _app(stripe_url), h.keyring()
    params = consent(connect.begin(sessions, ring, app, company_id).url, decision="deny")
    with pytest.raises(connect.ConnectError, match="the consent was declined"):
        connect.complete(
            sessions,
            ring,
            app,
            http,
            state=params["state"],
            code=None,
            callback=params,
            error=params["error"],
        )


def test_a_connection_outlives_a_restart_of_the_sandbox_on_its_state_file(sessions, http, tmp_path):
    # `sierra-sync up` after `down`: the sandbox restarts on the same state file; the company's stored
    # stripe_user_id is still connected, and disconnecting it then is kept over the next restart.
    options = StripeSandboxOptions(seed=16, state_file=str(tmp_path / "stripe.json"))
    with sessions.begin() as s:
        company_id = factories.company(s, "Restarted Builders").id
    ring = h.keyring()
    with LocalServer(create_app(options)) as server:
        app = _app(server.url)
        params = consent(connect.begin(sessions, ring, app, company_id).url)
        integration_id = connect.complete(
            sessions, ring, app, http, state=params["state"], code=params.get("code"), callback=params
        )
    with sessions() as s:
        row = s.get(Integration, integration_id)
        assert row is not None
        account = row.external_company_id
    assert account is not None
    as_platform = {"Authorization": f"Bearer {PLATFORM_KEY}", "Stripe-Account": account}
    with LocalServer(create_app(options)) as server:
        assert http.get(f"{server.url}/v1/customers", headers=as_platform).status_code == 200
        assert connect.disconnect(sessions, ring, _app(server.url), http, company_id) is True
    with LocalServer(create_app(options)) as server:
        assert http.get(f"{server.url}/v1/customers", headers=as_platform).status_code == 403
