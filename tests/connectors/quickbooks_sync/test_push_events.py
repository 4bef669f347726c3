"""A push tells the company's webhook subscribers what happened to each invoice (issue 10's events)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select, update

from connectors.outgoing_webhooks import OUTGOING
from sierra_core.db.models import Integration, WebhookSubscription
from sierra_core.db.models.public_api import WebhookDelivery


def _subscribe(connected, events):
    with connected.sessions.begin() as s:
        s.add(
            WebhookSubscription(
                company_id=connected.connection.company_id,
                provider=OUTGOING,
                webhook_url="https://hooks.example.com/sierra",
                events=events,
                is_active=True,
            )
        )


def test_invoice_outcomes_become_webhook_events(connected):
    _subscribe(connected, ["invoice.synced", "invoice.sync_failed"])
    result = connected.push(types=("invoice",))
    with connected.sessions() as s:
        deliveries = s.scalars(select(WebhookDelivery)).all()
    kinds = Counter(d.event_type for d in deliveries)
    assert kinds["invoice.synced"] == result.counts["invoice"].created
    assert len({d.event_id for d in deliveries}) == len(deliveries)  # one event per outcome
    sample = next(d for d in deliveries if d.event_type == "invoice.synced")
    assert sample.payload["data"]["quickbooks_id"] and sample.payload["data"]["invoice_number"]


def test_failed_invoice_is_announced_and_nothing_goes_to_non_subscribers(connected):
    _subscribe(connected, ["invoice.sync_failed"])
    with connected.sessions.begin() as s:
        s.execute(update(Integration).values(settings={}))  # no item mapped: every invoice fails for good
    connected.reload()
    result = connected.push(types=("invoice",))
    with connected.sessions() as s:
        kinds = Counter(s.scalars(select(WebhookDelivery.event_type)))
    assert kinds == Counter({"invoice.sync_failed": result.counts["invoice"].failed})


def test_no_subscription_no_delivery(connected):
    connected.push(types=("invoice",))
    with connected.sessions() as s:
        assert s.scalars(select(WebhookDelivery)).all() == []
