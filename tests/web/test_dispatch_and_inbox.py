"""The inbox (claim once across workers, failures, sweeps) and the run_deployment dispatcher on a real
Prefect server: the same event always maps to the same flow run."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from sqlalchemy import select

from sierra_core import inbox
from sierra_core.db.models import WebhookEvent
from sierra_core.db.types import utcnow
from sierra_sync.web.dispatch import (
    DeploymentDispatcher,
    InProcessDispatcher,
    deployment_exists,
    dispatch_key,
)


def _store(sessions, event_id: str, provider: str = "stripe", **kw) -> inbox.InboxEvent:
    new = inbox.NewEvent(
        provider=provider,
        event_id=event_id,
        event_type="payment_intent.succeeded",
        raw_payload="{}",
        payload={},
    )
    with sessions.begin() as s:
        [stored] = inbox.store_events(s, [new], **kw)
    return stored.event


def test_store_is_idempotent_per_provider_and_event_id(sessions):
    first = _store(sessions, "evt_1")
    with sessions.begin() as s:
        again, other = inbox.store_events(
            s,
            [
                inbox.NewEvent("stripe", "evt_1", "x", "{}", {}),
                inbox.NewEvent("quickbooks", "evt_1", "x", "{}", {}),  # another provider: another event
            ],
        )
    assert again.duplicate and again.event.id == first.id
    assert not other.duplicate and other.event.id != first.id


def test_one_claim_wins_among_concurrent_workers(sessions):
    event = _store(sessions, "evt_race")
    barrier, winners = threading.Barrier(6), []

    def worker():
        barrier.wait()
        if inbox.claim(sessions, event.id) is not None:
            winners.append(1)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_failed_events_retry_until_max_attempts_and_stale_claims_are_taken_over(sessions):
    event = _store(sessions, "evt_retry")
    for _ in range(3):
        assert inbox.claim(sessions, event.id, max_attempts=3) is not None
        inbox.fail(sessions, event.id, "QuickBooks 503")
    assert inbox.claim(sessions, event.id, max_attempts=3) is None  # three failed attempts: a person looks
    stuck = _store(sessions, "evt_stuck")
    assert inbox.claim(sessions, stuck.id) is not None
    assert inbox.claim(sessions, stuck.id) is None  # someone is on it
    later = utcnow() + timedelta(minutes=16)
    taken = inbox.claim(sessions, stuck.id, now=later)  # that worker died
    assert taken is not None and taken.attempts == 2
    inbox.finish(sessions, stuck.id)
    assert inbox.claim(sessions, stuck.id, now=later + timedelta(hours=1)) is None


def test_pending_lists_unclaimed_events_for_a_sweep(sessions):
    old = _store(sessions, "evt_old", now=utcnow() - timedelta(minutes=10))
    _store(sessions, "evt_new")
    _store(sessions, "qbo_1", provider="quickbooks", now=utcnow() - timedelta(minutes=10))
    assert [e.event_id for e in inbox.pending(sessions, "stripe", older_than=timedelta(minutes=5))] == [
        old.event_id
    ]
    assert len(inbox.pending(sessions)) == 3
    assert inbox.payload_of(sessions, old.id) == {}
    with pytest.raises(LookupError):
        inbox.payload_of(sessions, uuid.uuid4())


def test_in_process_dispatch_without_a_handler_leaves_the_event_received(sessions):
    event = _store(sessions, "evt_unhandled")
    InProcessDispatcher(sessions).dispatch([event])
    assert [e.event_id for e in inbox.pending(sessions)] == ["evt_unhandled"]


@flow(name="process-stripe-events")
def _stand_in(inbox_ids: list[str]) -> None:
    """Stands in for the flow that lands with the process-stripe-events work."""


def test_run_deployment_dispatch_makes_one_flow_run_per_event(prefect_api, sessions, caplog):
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow(_stand_in)
        client.create_deployment(flow_id=flow_id, name="process-stripe-events", parameter_openapi_schema={})
    assert deployment_exists("process-stripe-events/process-stripe-events")
    assert not deployment_exists("process-stripe-events/nope")
    tag = uuid.uuid4().hex[:8]  # one Prefect server for the session: keys must be new to this test
    first, second = _store(sessions, f"evt_run_{tag}_1"), _store(sessions, f"evt_run_{tag}_2")
    dispatcher = DeploymentDispatcher({"stripe": "process-stripe-events/process-stripe-events"})
    dispatcher.dispatch([first])
    dispatcher.dispatch([first, second])  # the duplicate delivery of evt_run_1 maps to the same run
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs()
    mine = {
        r.idempotency_key: r for r in runs if r.idempotency_key in (dispatch_key(first), dispatch_key(second))
    }
    assert len(mine) == 2
    assert mine[dispatch_key(first)].parameters == {"inbox_ids": [str(first.id)]}
    assert len([r for r in runs if r.idempotency_key == dispatch_key(first)]) == 1
    # A deployment that is not there: logged, nothing raised, the event stays in the inbox for the sweep.
    with caplog.at_level(logging.WARNING, logger="sierra_sync.web.dispatch"):
        DeploymentDispatcher({"stripe": "missing-flow/missing"}).dispatch([second])
    assert "stays in the inbox" in caplog.text


def test_the_inbox_never_stores_a_client_secret(sessions):
    """Every way into the inbox (the receiver, the Stripe backfill) goes through store_events."""
    secret = "seti_1Mm8s8LkdIwHu7ix0OXBfTRG_secret_NXDICkPqPeiBTAUqaTuFhXgrOQ3DqBn"
    payload: dict[str, Any] = {
        "id": "evt_seti",
        "data": {"object": {"id": "seti_1", "client_secret": secret, "usage": "off"}},
    }
    new = inbox.NewEvent(
        provider="stripe",
        event_id="evt_seti",
        event_type="setup_intent.created",
        raw_payload=json.dumps(payload, separators=(",", ":")),
        payload=payload,
    )
    with sessions.begin() as s:
        inbox.store_events(s, [new])
    with sessions() as s:
        row = s.scalar(select(WebhookEvent).where(WebhookEvent.event_id == "evt_seti"))
    assert row is not None
    assert secret not in row.raw_payload and secret not in json.dumps(row.payload)
    assert row.payload["data"]["object"] == {"id": "seti_1", "client_secret": "[REDACTED]", "usage": "off"}
    assert json.loads(row.raw_payload) == row.payload
    assert payload["data"]["object"]["client_secret"] == secret  # the caller's object is untouched
