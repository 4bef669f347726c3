"""The health-check flow with a company kept in Xero, for real (Prefect test server, the Xero sandbox over a
socket, both dialects): the verdict covers the token, the organisation (among GET /connections and
answering GET /Organisation) and the calls left that Xero reports; a disconnected organisation is failing
with the reconnect command; a nearly spent day is degraded, never failing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from prefect.types import SecretDict
from pydantic import SecretStr
from sqlalchemy import select

from blocks import TOKEN_KEYS_BLOCK, TokenEncryptionKeys
from blocks.xero import XERO_APP_BLOCK, XeroAppCredentials
from connectors.kit import connect, oauth
from connectors.kit.registry import get_provider
from connectors.ops import health
from connectors.ops.xero_probe import XeroProbe
from flows.operations import health_check
from sierra_core.db.models import IntegrationHealth
from sierra_core.settings import get_settings
from tasks import naming, runtime
from tests import factories
from tests.connectors.quickbooks import oauth_helpers as h
from tests.sandbox.xero.conftest import Xero, start

REDIRECT = "http://127.0.0.1:9/oauth/xero/callback"


@pytest.fixture
def xero_small() -> Iterator[Xero]:
    server, running = start(day_limit=300)  # 300 calls a day: under a tenth of Xero's 5,000
    try:
        yield running
    finally:
        server.stop()


def _connect(xero: Xero, sessions: Any, name: str) -> Any:
    app = oauth.App(
        provider=get_provider("xero"),
        environment="local",
        client_id="local-client",
        client_secret="local-secret",
        redirect_uri=REDIRECT,
        local_base=xero.url,
    )
    with sessions.begin() as s:
        company_id = factories.company(s, name).id
    with httpx.Client(timeout=10) as http:
        auth = connect.begin(sessions, h.keyring(), app, company_id)
        consent = http.get(auth.url)
        params = {k: v[0] for k, v in parse_qs(urlsplit(consent.headers["location"]).query).items()}
        connect.complete(sessions, h.keyring(), app, http, state=params["state"], code=params.get("code"))
    return company_id


@pytest.fixture
def env(db: Any, sessions: Any, xero_small: Xero, prefect_api: str, monkeypatch: Any) -> Iterator[Xero]:
    monkeypatch.setenv("SIERRA_DATABASE_URL", db.url)
    get_settings.cache_clear()
    runtime.reset_engines()
    naming.forget_names()
    XeroAppCredentials(
        client_id="local-client",
        client_secret=SecretStr("local-secret"),
        redirect_uri=REDIRECT,
        environment="local",
        local_base_url=xero_small.url,
    ).save(XERO_APP_BLOCK, overwrite=True)
    TokenEncryptionKeys(keys=SecretDict({"k1": h.KEY_TEXT}), created={"k1": h.KEY_CREATED}).save(
        TOKEN_KEYS_BLOCK, overwrite=True
    )
    yield xero_small
    get_settings.cache_clear()
    runtime.reset_engines()


def test_health_check_probes_xero_and_fails_a_disconnected_organisation(env: Xero, sessions: Any) -> None:
    company_id = _connect(env, sessions, "Matai Builders")
    result = health_check(notify=False)
    [row] = [r for r in result["connections"] if r["company"] == "Matai Builders"]
    assert row["provider"] == "xero" and row["token"] == "valid"
    assert row["status"] == "degraded"  # never synced, and only ~300 calls a day
    assert "only 29" in row["findings"] and "of 5,000 Xero calls left today" in row["findings"]
    assert "Xero calls left: 29" in row["findings"] and "this minute" in row["findings"]
    assert "failing" not in json.dumps(row)
    with sessions() as s:
        stored = s.scalars(select(IntegrationHealth).where(IntegrationHealth.company_id == company_id)).one()
        assert stored.status == "degraded" and "Xero calls left" in (stored.summary or "")

    # the organisation disconnected in Xero: failing, with the reconnect command
    [tenant] = list(env.sandbox.orgs)
    for grant in env.sandbox.kit.require_oauth().grants.values():
        grant.revoked = True
    result = health_check(notify=False)
    [row] = [r for r in result["connections"] if r["company"] == "Matai Builders"]
    assert row["status"] == "failing", row
    assert "Xero organisation not reachable" in row["findings"]
    assert 'sierra-sync connect xero --company "Matai Builders"' in row["fix"]
    assert tenant not in row["fix"]


def test_a_spent_day_is_degraded_and_the_verdict_is_recomputed() -> None:
    def fresh() -> health.Health:
        return health.Health(
            integration_id="i",
            company_id="c",
            company="Kahikatea Co",
            status="healthy",
            token_status="valid",
            last_sync_at=None,
            last_sync_status=None,
            failure_rate=0.0,
            attempts_in_window=0,
            pending_retries=0,
            open_failures=0,
            last_webhook_at=None,
            provider="xero",
        )

    spent = health.apply_probe(fresh(), XeroProbe(True, "Kahikatea", minute_remaining=59, day_remaining=0))
    assert spent.status == "degraded" and "Xero calls of the day are spent" in spent.summary
    plenty = health.apply_probe(
        fresh(), XeroProbe(True, "Kahikatea", minute_remaining=59, day_remaining=4900)
    )
    assert plenty.status == "healthy"
    assert plenty.summary == "all good (Xero calls left: 4,900 today, 59 this minute)"
    gone = health.apply_probe(fresh(), XeroProbe(False, problem="GET /Organisation failed: 403"))
    assert (
        gone.status == "failing"
        and gone.summary == "Xero organisation not reachable: GET /Organisation failed: 403"
    )


def test_a_pending_choice_of_organisation_says_how_to_choose(sessions: Any) -> None:
    with sessions.begin() as s:
        company = factories.company(s, "Rata Renovations")
        factories.integration(
            s,
            company.id,
            integration_type="xero",
            connection_status="connecting",
            is_active=True,
            settings={"tenant_choices": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]},
        )
    with sessions() as s:
        [found] = [r for r in health.assess(s) if r.company == "Rata Renovations"]
    assert found.status == "failing" and found.provider == "xero"
    assert found.summary == "waiting for the organisation to be chosen among the 2 it reaches; never synced"
    assert (
        'sierra-sync connect xero --company "Rata Renovations" --tenant <id or name>' in found.findings[0].fix
    )
