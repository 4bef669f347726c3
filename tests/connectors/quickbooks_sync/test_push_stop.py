"""A push asked to stop (the process got SIGTERM/SIGINT) ends between two batch requests: what was sent is
recorded with its link, nothing is left in progress, the rest goes with the next push, never twice."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from sierra_core.db.models import EntityLink, IntegrationSyncLog, Invoice


def _links(sessions, entity_type: str) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).where(EntityLink.entity_type == entity_type)) or 0)


def _ours_in_qbo(connected, numbers: set[str]) -> Counter[str]:
    """How many times each app invoice number is in QuickBooks (the sample books have invoices too)."""
    return Counter(i["DocNumber"] for i in connected.qbo_items("Invoice") if i.get("DocNumber") in numbers)


def test_a_stopped_push_ends_after_the_batch_in_flight_and_the_next_push_finishes(connected):
    with connected.sessions() as s:
        numbers = set(
            s.scalars(select(Invoice.invoice_number).where(Invoice.status.not_in(["draft", "void"])))
        )
    # Stop as soon as the customers' batch is recorded: the invoices' batch is never sent.
    result = connected.push(should_stop=lambda: _links(connected.sessions, "customer") > 0)
    assert result.stopped and result.as_dict()["stopped"]
    created = result.counts["customer"].created
    assert created > 0
    assert "invoice" not in result.counts
    with connected.sessions() as s:
        statuses = Counter(s.scalars(select(IntegrationSyncLog.status)))
    assert statuses == {"success": created}  # one row per customer sent, none left in progress
    assert _links(connected.sessions, "customer") == created
    assert _links(connected.sessions, "invoice") == 0
    assert _ours_in_qbo(connected, numbers) == Counter()
    customers_in_qbo = len(connected.qbo_items("Customer"))

    rest = connected.push()
    assert not rest.stopped
    assert len(connected.qbo_items("Customer")) == customers_in_qbo  # not sent twice
    assert _ours_in_qbo(connected, numbers) == Counter(numbers)  # every invoice once
    assert _links(connected.sessions, "invoice") == len(numbers)
