"""The hub's Xero card (Client on the real app and database, both dialects): a company kept in Xero sees
its status, organisation, last sync, counts and health (with the calls Xero says are left), and "Sync now"
starts the same incremental-sync flow as QuickBooks' card, for the company, as a manual run."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

import pytest
from httpx import Client

from connectors.kit import oauth
from connectors.kit.registry import get_provider
from sierra_core.db.models import EntityLink, IntegrationHealth, IntegrationSyncLog
from sierra_core.db.types import utcnow
from sierra_sync.web import AppDeps
from sierra_sync.web.hub.runs import RunState
from sierra_sync.web.oauth_callback import OAuthCallbacks
from tests import factories
from tests.connectors.quickbooks.oauth_helpers import keyring
from tests.web.hub import helpers as h
from tests.web.hub.test_hub_access import login

pytestmark = pytest.mark.postgres
TENANT = "0a3d4b7e-1111-4b6c-9e0f-00000000000a"


class Recorder:
    """Runs that are only recorded (the flow itself is tested elsewhere)."""

    def __init__(self) -> None:
        self.started: list[tuple[str, dict[str, Any]]] = []
        self.states: dict[str, RunState] = {}

    def start(self, flow: str, parameters: Mapping[str, Any]) -> str:
        run_id = str(uuid.uuid4())
        self.started.append((flow, dict(parameters)))
        self.states[run_id] = RunState("running", str(parameters.get("company")), utcnow())
        return run_id

    def state(self, run_id: str) -> RunState | None:
        return self.states.get(run_id)


def xero_callbacks(sessions: Any) -> OAuthCallbacks:
    """OAuth callbacks that know a Xero app (the card then offers its actions)."""
    app = oauth.App(
        provider=get_provider("xero"),
        environment="local",
        client_id="local-client",
        client_secret="local-secret",
        redirect_uri="http://127.0.0.1:9/oauth/xero/callback",
        local_base="http://127.0.0.1:9",
    )
    return OAuthCallbacks(sessions, keyring(), {"xero": app})


@pytest.fixture
def hub(sessions: Any, web_server: Any) -> Iterator[tuple[Client, Recorder]]:
    runs = Recorder()
    deps = AppDeps(sessions=sessions, hub=h.config(runs=runs), oauth=xero_callbacks(sessions))
    with web_server.serve(deps) as client:
        yield client, runs


def xero_company(sessions: Any, name: str) -> tuple[uuid.UUID, str]:
    """A company connected to a Xero organisation, with links, sync-log rows and a stored health verdict;
    returns its id and its owner's email."""
    company_id, owner, _ = h.seed(sessions, name)
    now = utcnow()
    with sessions.begin() as s:
        row = factories.integration(
            s,
            company_id,
            integration_type="xero",
            connection_status="connected",
            is_connected=True,
            is_active=True,
            external_company_id=TENANT,
            settings={"external_company_name": "Kauri Homes Ltd"},
            access_token="sealed",
            refresh_token="sealed",
            expires_at=now + timedelta(minutes=25),
        )
        for entity_type in ("customer", "invoice", "invoice"):
            s.add(
                EntityLink(
                    integration_id=row.id,
                    company_id=company_id,
                    entity_type=entity_type,
                    app_id=uuid.uuid4(),
                    external_id=str(uuid.uuid4()),
                )
            )
        for status in ("success", "success", "failed"):
            s.add(
                IntegrationSyncLog(
                    integration_id=row.id,
                    company_id=company_id,
                    sync_type="invoice",
                    direction="push",
                    entity_type="invoice",
                    status=status,
                    error_message="Xero refused invoice INV-0009: the contact is archived"
                    if status == "failed"
                    else None,
                    trigger="scheduled",
                    started_at=now - timedelta(minutes=5),
                    completed_at=now - timedelta(minutes=4),
                )
            )
        s.add(
            IntegrationHealth(
                integration_id=row.id,
                company_id=company_id,
                status="degraded",
                token_status="valid",
                summary="only 212 of 5,000 Xero calls left today "
                "(Xero calls left: 212 today, 58 this minute)",
                reasons=[],
                checked_at=now,
            )
        )
    return company_id, owner


def test_the_xero_card_shows_the_connection_and_sync_now_starts_incremental_sync(hub, sessions):
    client, runs = hub
    company_id, owner = xero_company(sessions, "Kauri Homes")
    login(client, owner)
    page = client.get("/hub/")
    assert page.status_code == 200
    card = re.search(r'<li class="card[^"]*" id="card-xero".*?</li>', page.text, re.S)
    assert card is not None, page.text
    html = card.group(0)
    assert "Connected" in html and f"Account Kauri Homes Ltd ({TENANT})" in html
    assert "<dt>Records linked</dt><dd>3</dd>" in html
    assert "2 synced · 1 failed" in html
    assert "Degraded" in html and "Xero calls left: 212 today, 58 this minute" in html
    assert "the contact is archived" in html
    assert 'action="/hub/integrations/xero/sync"' in html and "Sync now" in html

    started = client.post(
        "/hub/integrations/xero/sync",
        data={"csrf_token": h.csrf_of(page.text)},
        headers={"accept": "application/json"},
    )
    assert started.status_code == 202, started.text
    assert runs.started == [("incremental-sync", {"company": str(company_id), "trigger": "manual"})]
    progress = client.get(started.json()["progress_url"])
    assert progress.status_code == 200 and "Xero sync" in progress.text


def test_the_reconciliation_page_of_a_xero_company_names_xero(hub, sessions):
    client, _ = hub
    company_id, owner, _ = h.seed(sessions, "Totara Builds")
    with sessions.begin() as s:
        factories.integration(
            s, company_id, integration_type="xero", connection_status="connected", is_active=True
        )
    login(client, owner)
    page = client.get("/hub/reconciliation")
    assert page.status_code == 200
    assert "compares your records with Xero and Stripe" in page.text and "QuickBooks" not in page.text
