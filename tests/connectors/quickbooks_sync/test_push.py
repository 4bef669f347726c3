"""push against the local QBO sandbox over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import delete, func, select, update

from connectors.kit.tokens import DbTokenSource
from connectors.quickbooks.client import QuickBooksClient
from sierra_core.db.models import (
    Contact,
    EntityLink,
    Expense,
    Integration,
    IntegrationSyncLog,
    Invoice,
    Payment,
)


def _app_invoices(sessions):
    with sessions() as s:
        return {
            inv.invoice_number: inv
            for inv in s.scalars(select(Invoice).where(Invoice.status.not_in(["draft", "void"])))
        }


def test_push_everything_once_to_the_cent(connected):
    result = connected.push()
    invoices = _app_invoices(connected.sessions)
    qbo_invoices = connected.qbo_items("Invoice")
    assert Counter(i["DocNumber"] for i in qbo_invoices) == Counter(list(invoices))  # one each, no duplicate
    for obj in qbo_invoices:
        app = invoices[obj["DocNumber"]]
        assert Decimal(str(obj["TotalAmt"])) == app.total
    with connected.sessions() as s:
        names = set(s.scalars(select(Contact.display_name)))
        n_payments = s.scalar(select(func.count()).select_from(Payment))
        n_expenses = s.scalar(select(func.count()).select_from(Expense))
        logs = s.scalars(select(IntegrationSyncLog)).all()
        integration = s.get(Integration, connected.connection.integration_id)
    qbo_names = Counter(c["DisplayName"] for c in connected.qbo_items("Customer"))
    assert result.counts["customer"].created == len(names)
    assert all(qbo_names[name] == 1 for name in names)  # the sample realm has customers of its own too
    assert result.counts["invoice"].created == len(invoices)
    assert result.counts["payment"].created + result.counts["payment"].failed == n_payments
    assert result.counts["expense"].created == n_expenses
    assert all(log.status == "success" for log in logs)
    assert integration is not None and integration.successful_syncs == len(logs)
    # Requests: per entity type one lookup batch plus one write batch per 30.
    assert result.batch_requests <= sum(1 + -(-c.created // 30) for c in result.counts.values())


def test_second_push_finds_nothing_to_do(connected):
    connected.push()
    again = connected.push()
    assert sum(c.created + c.updated + c.failed for c in again.counts.values()) == 0
    assert again.batch_requests == 0


def test_changed_invoice_is_sent_as_sparse_update_with_sync_token(connected):
    connected.push()
    with connected.sessions.begin() as s:
        inv = s.scalars(select(Invoice).where(Invoice.status == "sent").limit(1)).one()
        inv.memo = "Owner asked for a copy by e-mail"
        inv.due_date = inv.issue_date.replace(day=28)
        number = inv.invoice_number
    before = connected.qbo.admin("GET", f"stats?realm={connected.connection.realm_id}")["batch_requests"]
    result = connected.push(types=("invoice",))
    assert result.counts["invoice"].updated == 1
    # one record: a plain read and a plain update, none of the realm's 40 batch requests a minute
    assert (result.batch_requests, result.single_requests) == (0, 2)
    assert (
        connected.qbo.admin("GET", f"stats?realm={connected.connection.realm_id}")["batch_requests"] == before
    )
    obj = next(i for i in connected.qbo_items("Invoice") if i["DocNumber"] == number)
    assert obj["SyncToken"] == "1"
    assert obj["DueDate"].endswith("-28")
    with connected.sessions() as s:
        link = s.scalar(
            select(EntityLink).where(EntityLink.external_id == obj["Id"], EntityLink.entity_type == "invoice")
        )
        assert link is not None and link.external_sync_token == "1"


def test_dry_run_writes_nothing_and_plans_everything(connected):
    result = connected.push(dry_run=True)
    assert connected.qbo_items("Invoice") == []
    with connected.sessions() as s:
        assert s.scalar(select(func.count()).select_from(IntegrationSyncLog)) == 0
        assert s.scalar(select(func.count()).select_from(EntityLink)) == 0
    actions = Counter(d.action for d in result.decisions)
    assert actions["create"] > 0
    assert {d.entity_type for d in result.decisions} == {"customer", "invoice", "payment", "expense"}


def test_unmapped_item_fails_alone_with_an_actionable_message(connected):
    with connected.sessions.begin() as s:
        s.execute(
            update(Integration).values(
                settings={"items": {"FRAMING-LABOR": {"value": "1", "name": "Services"}}}
            )
        )
    connected.reload()
    result = connected.push(types=("invoice",))
    failures = [f for f in result.failures if f.entity_type == "invoice"]
    assert (failures and result.counts["invoice"].created > 0) or result.counts["invoice"].failed == len(
        failures
    )
    message = failures[0].message
    assert message.startswith("QuickBooks sync failed: Invoice #")
    assert "(item code " in message and "which is not mapped to a QuickBooks item. Map item code " in message
    assert all(f.status == "failed" for f in failures)  # not retryable: a person must map the item
    assert result.counts["customer"].created > 0  # dependencies went first and were not held back


def test_lost_responses_never_duplicate(connected):
    connected.qbo.admin(
        "POST", "faults", {"realm": connected.connection.realm_id, "drop_rate": 0.4, "error_rate": 0.1}
    )
    for _ in range(5):
        result = connected.push()
        if not any(c.retrying or c.failed for c in result.counts.values()):
            break
        with connected.sessions.begin() as s:  # make retrying rows due now (the sweep would do this)
            s.execute(
                update(IntegrationSyncLog)
                .where(IntegrationSyncLog.status == "retrying")
                .values(status="failed")
            )
    connected.qbo.admin(
        "POST", "faults", {"realm": connected.connection.realm_id, "drop_rate": 0, "error_rate": 0}
    )
    connected.push()
    invoices = _app_invoices(connected.sessions)
    qbo_invoices = connected.qbo_items("Invoice")
    assert Counter(i["DocNumber"] for i in qbo_invoices) == Counter(list(invoices))
    names = Counter(c["DisplayName"] for c in connected.qbo_items("Customer"))
    assert max(names.values()) == 1


def test_record_created_before_a_crash_is_linked_not_duplicated(connected):
    """A worker created the invoice in QBO, then died before writing the link: the next push finds it."""
    connected.push(types=("customer",))
    first = connected.push(types=("invoice",))
    assert first.counts["invoice"].created > 0
    with connected.sessions.begin() as s:
        s.execute(delete(EntityLink).where(EntityLink.entity_type == "invoice"))
    again = connected.push(types=("invoice",))
    assert again.counts["invoice"].created == 0
    assert again.counts["invoice"].linked == first.counts["invoice"].created
    assert len(connected.qbo_items("Invoice")) == first.counts["invoice"].created


@pytest.mark.parametrize(
    ("app_edit_offset", "winner"), [(timedelta(minutes=5), "app"), (timedelta(hours=-1), "qbo")]
)
def test_conflict_is_resolved_last_write_wins_and_logged(connected, app_edit_offset, winner):
    connected.push(types=("customer",))
    with connected.sessions() as s:
        link = s.scalars(select(EntityLink).where(EntityLink.entity_type == "customer").limit(1)).one()
    obj = next(c for c in connected.qbo_items("Customer") if c["Id"] == link.external_id)
    with httpx.Client() as http:  # a bookkeeper edits the customer in QuickBooks ...
        source = DbTokenSource(
            connected.sessions, connected.connection.integration_id, connected.ring, connected.app, http
        )
        with QuickBooksClient(connected.app.api_base_url, connected.connection.realm_id, source) as client:
            body = {"Id": obj["Id"], "SyncToken": obj["SyncToken"], "Notes": "edited in QBO"}
            client.update("Customer", body, request_id=f"qbo-side-edit-{winner}")
    with connected.sessions.begin() as s:  # ... and someone edits it in the app, later or earlier
        row = s.get(Contact, link.app_id)
        assert row is not None
        row.email = "new-address@example.com"
        row.updated_at = datetime.now(UTC) + app_edit_offset
    result = connected.push(types=("customer",))
    conflict = [d for d in result.decisions if d.action == "conflict"]
    assert len(conflict) == 1
    assert ("the app wins" if winner == "app" else "QuickBooks wins") in conflict[0].reason
    pushed = next(c for c in connected.qbo_items("Customer") if c["Id"] == link.external_id)
    if winner == "app":
        assert result.counts["customer"].updated == 1
        assert pushed["PrimaryEmailAddr"]["Address"] == "new-address@example.com"
        assert pushed["Notes"] == "edited in QBO"  # sparse: the field the app does not manage survives
    else:
        assert result.counts["customer"].updated == 0
        assert pushed["PrimaryEmailAddr"]["Address"] != "new-address@example.com"
