"""Xero's webhook events acted on: a save in the Xero sandbox reaches the project's real ingress
(POST /webhooks/xero over a socket, x-xero-signature checked), lands in the inbox for the company of the
organisation, and the burst is answered by one pull of that company; an event an earlier pull covered
costs none; organisations nobody here is connected to are ignored; a failed pull leaves the events to retry.
The pull is injected (the company's incremental sync in production: tasks/xero_events.py); it moves the pull
cursors as a real pull does."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from connectors.xero import events
from sierra_core import inbox
from sierra_core.db.models import SyncCursor, WebhookEvent
from sierra_core.db.types import utcnow
from sierra_core.inbox import NewEvent
from sierra_sync.web import AppDeps, InProcessDispatcher
from tests import factories
from tests.sandbox.xero.conftest import Xero, xero  # noqa: F401 - fixture
from tests.web.conftest import WebServer, wait_for
from tests.web.conftest import web_server as web_server

KEY = "xero-events-webhook-key"


def _admin(running: Xero, path: str, body: dict[str, Any]) -> Any:
    answer = httpx.post(f"{running.url}/__sandbox/{path}", json=body, timeout=15)
    assert answer.status_code == 200, answer.text
    return answer.json()


class Pulls:
    """A pull that records its company and moves the connection's pull cursors to its start."""

    def __init__(self, sessions: Any, integration_id: uuid.UUID, fail: bool = False) -> None:
        self.sessions, self.integration_id, self.fail = sessions, integration_id, fail
        self.companies: list[uuid.UUID] = []

    def __call__(self, company_id: uuid.UUID) -> dict[str, Any]:
        started = utcnow()
        self.companies.append(company_id)
        if self.fail:
            raise RuntimeError("Xero answered 503 to Bearer abcdefghijklmnop")
        with self.sessions.begin() as s:
            for entity_type in events.PULLED_TYPES:
                row = s.scalar(
                    select(SyncCursor).where(
                        SyncCursor.integration_id == self.integration_id,
                        SyncCursor.entity_type == entity_type,
                        SyncCursor.direction == "pull",
                    )
                )
                if row is None:
                    row = SyncCursor(
                        integration_id=self.integration_id, entity_type=entity_type, direction="pull"
                    )
                    s.add(row)
                row.cursor_at = started
        return {"changed": 2}


def _connected(sessions: Any, tenant: str) -> tuple[uuid.UUID, uuid.UUID]:
    with sessions.begin() as s:
        company = factories.company(s)
        row = factories.integration(
            s,
            company.id,
            integration_type="xero",
            external_company_id=tenant,
            connection_status="connected",
            is_connected=True,
            is_active=True,
        )
        return company.id, row.id


def _stored(sessions: Any) -> list[WebhookEvent]:
    with sessions() as s:
        return list(s.scalars(select(WebhookEvent).where(WebhookEvent.provider == "xero")))


def test_a_save_in_xero_reaches_the_inbox_and_the_burst_costs_one_pull(
    xero: Xero,  # noqa: F811
    sessions: Any,
    web_server: WebServer,
) -> None:
    tokens = xero.connect()
    company_id, integration_id = _connected(sessions, tokens["tenantId"])
    pulls = Pulls(sessions, integration_id)
    dispatcher = InProcessDispatcher(sessions, {"xero": events.inbox_handler(sessions, pulls)})
    with web_server.serve(AppDeps(sessions=sessions, webhook_secrets={"xero": [KEY]}, dispatcher=dispatcher)):
        _admin(xero, "webhooks", {"url": f"{web_server.url}/webhooks/xero", "webhook_key": KEY})
        with xero.api(tokens) as api:
            names = [{"Name": f"Rimu Roofing {n}"} for n in range(3)]
            assert api.put("/Contacts", json={"Contacts": names}).status_code == 200
        wait_for(lambda: len(_stored(sessions)) == 3, timeout=30)
        wait_for(lambda: all(r.status == "processed" for r in _stored(sessions)), timeout=30)
        _admin(xero, "webhooks/flush", {})
    assert pulls.companies == [company_id]  # three events, one delivery: one pull
    assert {r.company_id for r in _stored(sessions)} == {company_id}

    # an event received before the last pull started is covered: no pull
    with sessions.begin() as s:
        [old] = inbox.store_events(
            s,
            [
                NewEvent(
                    provider="xero",
                    event_id="xero:old",
                    event_type="xero.invoice.updated",
                    raw_payload="{}",
                    payload={},
                    company_id=company_id,
                    integration_id=integration_id,
                )
            ],
        )
        row = s.get(WebhookEvent, old.event.id)
        row.received_at = utcnow() - timedelta(hours=1)
    run = events.process_events(sessions, pulls, [old.event.id], debounce=0)
    assert (run.covered, run.pulls, pulls.companies) == (1, 0, [company_id])


def test_unknown_organisations_are_ignored_and_a_failed_pull_is_retried(sessions: Any) -> None:
    company_id, integration_id = _connected(sessions, "tenant-known")
    with sessions.begin() as s:
        stored = inbox.store_events(
            s,
            [
                NewEvent(
                    provider="xero",
                    event_id=f"xero:{n}",
                    event_type="xero.contact.updated",
                    raw_payload="{}",
                    payload={},
                    company_id=company_id if n else None,
                    integration_id=integration_id if n else None,
                )
                for n in range(3)
            ],
        )
    failing = Pulls(sessions, integration_id, fail=True)
    run = events.process_events(sessions, failing, None, debounce=0)
    assert (run.ignored, run.failed, run.pulls) == (1, 2, 0) and failing.companies == [company_id]
    assert "abcdefghijklmnop" not in run.failures[0]["message"] and "503" in run.failures[0]["message"]
    assert set(events.pending_ids(sessions)) == {s.event.id for s in stored[1:]}  # failed, attempts left
    working = Pulls(sessions, integration_id)
    again = events.process_events(sessions, working, None, debounce=0)
    assert (again.processed, again.pulls, working.companies) == (2, 1, [company_id])
    assert events.pending_ids(sessions) == []
