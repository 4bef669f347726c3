"""Intuit's notifications acted on: an edit made in QuickBooks reaches the app through a signed webhook and
one CDC pull, with no scheduled sync; a burst costs one pull; a notification an earlier pull covered costs
none; realms nobody here is connected to are ignored."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from connectors.quickbooks import events
from sandbox.common.server import LocalServer
from sierra_core import inbox
from sierra_core.db.models import Contact, EntityLink, IntegrationSyncLog, WebhookEvent
from sierra_core.db.types import utcnow
from sierra_core.inbox import NewEvent
from sierra_sync.web import AppDeps, InProcessDispatcher, create_app
from tests.connectors.quickbooks_sync.test_pull import bookkeeper, pull, rid, synced

VERIFIER = "local-verifier-token"


def _pull_for(connected: Any, counter: list[uuid.UUID]) -> events.Pull:
    def run(company_id: uuid.UUID) -> dict[str, Any]:
        counter.append(company_id)
        return pull(connected, trigger="webhook").as_dict()

    return run


def _wait(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_an_edit_in_quickbooks_reaches_the_app_through_a_signed_webhook(connected):
    synced(connected)
    pulls: list[uuid.UUID] = []
    handler = events.inbox_handler(connected.sessions, _pull_for(connected, pulls))
    dispatcher = InProcessDispatcher(connected.sessions, {"quickbooks_online": handler})
    deps = AppDeps(
        sessions=connected.sessions, webhook_secrets={"quickbooks_online": [VERIFIER]}, dispatcher=dispatcher
    )
    customer = next(c for c in connected.qbo_items("Customer") if c["DisplayName"] != "Amy's Bird Sanctuary")
    with LocalServer(create_app(deps)) as web:
        connected.qbo.admin(
            "POST", "webhooks", {"url": f"{web.url}/webhooks/quickbooks", "verifier_token": VERIFIER}
        )
        try:
            with bookkeeper(connected) as qbo:
                qbo.update(
                    "Customer",
                    {
                        "Id": customer["Id"],
                        "SyncToken": customer["SyncToken"],
                        "PrimaryEmailAddr": {"Address": "hook@x.com"},
                    },
                    rid("cust"),
                )
            connected.qbo.admin("POST", "webhooks/flush")

            def email() -> object:
                with connected.sessions() as s:
                    link = s.scalars(select(EntityLink).where(EntityLink.external_id == customer["Id"])).one()
                    contact = s.get(Contact, link.app_id)
                    return contact.email if contact else None

            _wait(lambda: email() == "hook@x.com")
        finally:
            connected.qbo.admin("POST", "webhooks", {"url": None})
    with connected.sessions() as s:
        stored = s.scalars(select(WebhookEvent).where(WebhookEvent.provider == "quickbooks_online")).all()
        triggers = {
            row.trigger
            for row in s.scalars(select(IntegrationSyncLog).where(IntegrationSyncLog.direction == "pull"))
        }
    assert pulls == [connected.connection.company_id]
    assert {e.status for e in stored} == {"processed"} and stored[
        0
    ].company_id == connected.connection.company_id
    assert "webhook" in triggers and "scheduled" not in triggers


def _notify(
    sessions: Any, connected: Any, n: int, *, realm: str | None = None, at: Any = None
) -> list[uuid.UUID]:
    realm = realm or connected.connection.realm_id
    integration = connected.connection.integration_id if realm == connected.connection.realm_id else None
    company = connected.connection.company_id if integration else None
    with sessions.begin() as s:
        stored = inbox.store_events(
            s,
            [
                NewEvent(
                    "quickbooks_online",
                    f"legacy:{realm}:{uuid.uuid4()}",
                    "qbo.invoice.updated",
                    "{}",
                    {},
                    company,
                    integration,
                )
                for _ in range(n)
            ],
        )
    ids = [x.event.id for x in stored]
    if at is not None:
        with sessions.begin() as s:
            for row in s.scalars(select(WebhookEvent).where(WebhookEvent.id.in_(ids))):
                row.received_at = at
    return ids


def test_a_burst_costs_one_pull_and_covered_or_foreign_notifications_cost_none(connected):
    synced(connected)  # its full pull started now: everything received before is covered
    sessions = connected.sessions
    pulls: list[uuid.UUID] = []
    old = _notify(sessions, connected, 3, at=utcnow() - timedelta(hours=1))
    foreign = _notify(sessions, connected, 2, realm="999999")
    burst = _notify(sessions, connected, 20)
    run = events.process_events(sessions, _pull_for(connected, pulls), debounce=0)
    assert (run.pulls, run.processed, run.covered, run.ignored, run.failed) == (1, 20, 3, 2, 0)
    assert pulls == [connected.connection.company_id]
    with sessions() as s:
        status = {row.id: row.status for row in s.scalars(select(WebhookEvent))}
    assert {status[i] for i in old + burst} == {"processed"} and {status[i] for i in foreign} == {"ignored"}
    again = events.process_events(sessions, _pull_for(connected, pulls), burst, debounce=0)
    assert (again.pulls, again.processed) == (0, 0)  # done once: never processed twice


def test_a_failed_pull_leaves_the_notifications_for_the_next_run(connected):
    synced(connected)
    ids = _notify(connected.sessions, connected, 2)

    def broken(company_id: uuid.UUID) -> dict[str, Any]:
        raise httpx.ConnectError("QuickBooks unreachable")

    run = events.process_events(connected.sessions, broken, debounce=0)
    assert (run.pulls, run.failed) == (0, 2) and "unreachable" in run.failures[0]["message"]
    pulls: list[uuid.UUID] = []
    retried = events.process_events(connected.sessions, _pull_for(connected, pulls), debounce=0)
    assert (retried.pulls, retried.processed) == (1, 2)
    with connected.sessions() as s:
        assert {s.get(WebhookEvent, i).status for i in ids} == {"processed"}
