"""pull against the local QBO sandbox over real HTTP, on SQLite and PostgreSQL: QuickBooks edits, voids,
deletes, new customers, invoices and payments reach the app; conflicts are decided and logged; cursors stop
at the sync's start; a second pull and the push that follows change nothing."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select

from connectors.kit.tokens import DbTokenSource
from connectors.quickbooks.client import QuickBooksClient, RetryPolicy
from connectors.quickbooks.connection import open_client
from connectors.quickbooks.mapping import qbo_meta
from connectors.quickbooks_sync.pull import Puller
from connectors.quickbooks_sync.pull_types import PullOptions, PullResult
from connectors.quickbooks_sync.push_types import Target
from sierra_core.db.models import (
    Contact,
    EntityLink,
    Expense,
    IntegrationSyncLog,
    Invoice,
    Payment,
    SyncCursor,
)
from sierra_core.db.types import utcnow

_ids = itertools.count()


def pull(
    connected: Any, full: bool = False, types: tuple[str, ...] | None = None, **options: Any
) -> PullResult:
    retry = RetryPolicy(max_attempts=6, initial_wait=0.01, max_wait=0.05, jitter=0.0, sleep=lambda s: None)
    c = connected.connection
    with open_client(connected.sessions, c, connected.ring, connected.app, retry=retry) as client:
        target = Target(c.integration_id, c.company_id, c.settings)
        puller = Puller(connected.sessions, client, target, PullOptions(**options))
        return puller.run(full=full) if types is None else puller.run(types, full=full)


@contextmanager
def bookkeeper(connected: Any) -> Iterator[QuickBooksClient]:
    """Someone working in QuickBooks directly."""
    with httpx.Client() as http:
        source = DbTokenSource(
            connected.sessions, connected.connection.integration_id, connected.ring, connected.app, http
        )
        with QuickBooksClient(connected.app.api_base_url, connected.connection.realm_id, source) as client:
            yield client


def rid(what: str) -> str:
    return f"test-{what}-{next(_ids)}-{utcnow().timestamp()}"


def requests_total(connected: Any) -> int:
    stats = connected.qbo.admin("GET", f"stats?realm={connected.connection.realm_id}")
    return int(stats["requests_total"])


def pull_logs(sessions: Any) -> list[IntegrationSyncLog]:
    with sessions() as s:
        return list(
            s.scalars(
                select(IntegrationSyncLog)
                .where(IntegrationSyncLog.direction == "pull")
                .order_by(IntegrationSyncLog.started_at)
            )
        )


def decision(log: IntegrationSyncLog) -> str:
    return str((log.response_payload or {}).get("decision"))


def versions(sessions: Any) -> dict[Any, int]:
    with sessions() as s:
        out: dict[Any, int] = {}
        for model in (Contact, Invoice, Payment):
            out.update({row.id: row.version for row in s.scalars(select(model))})
        return out


def linked(sessions: Any, entity_type: str, external_id: str) -> tuple[EntityLink, Any]:
    model = {"customer": Contact, "invoice": Invoice, "payment": Payment, "expense": Expense}[entity_type]
    with sessions() as s:
        link = s.scalars(
            select(EntityLink).where(
                EntityLink.entity_type == entity_type, EntityLink.external_id == external_id
            )
        ).one()
        row = s.get(model, link.app_id)
        if isinstance(row, Invoice):
            _ = row.lines
        return link, row


def synced(connected: Any) -> None:
    """Everything pushed, then one full pull: the baseline of every test."""
    connected.push()
    pull(connected, full=True)


def open_invoice(connected: Any) -> dict[str, Any]:
    """A synced QBO invoice nothing has paid yet."""
    return next(
        i
        for i in connected.qbo_items("Invoice")
        if Decimal(str(i["Balance"])) == Decimal(str(i["TotalAmt"])) > 10 and not i.get("LinkedTxn")
    )


def test_nothing_changed_costs_one_request_and_changes_nothing(connected):
    """Also: an entity type never pulled is read in full on its own, the others stay incremental."""
    synced(connected)
    before_versions, before_logs = versions(connected.sessions), len(pull_logs(connected.sessions))
    before = requests_total(connected)
    result = pull(connected)
    assert requests_total(connected) - before <= 2  # one CDC call for every entity type
    assert result.requests == 1
    assert result.changed == 0 and not result.failures
    assert versions(connected.sessions) == before_versions  # no new versions, no new rows
    assert len(pull_logs(connected.sessions)) == before_logs  # skipped objects leave no log rows
    again = connected.push()  # and the push finds nothing to send back
    assert again.batch_requests == 0
    assert sum(c.created + c.updated for c in again.counts.values()) == 0
    with connected.sessions.begin() as s:  # expenses were just switched on: read in full, alone
        s.execute(delete(SyncCursor).where(SyncCursor.entity_type == "expense"))
    result = pull(connected)
    assert result.changed == 0 and not result.failures
    assert result.requests == 3  # one CDC for the others; one query (+ CDC for deletions) for expenses
    assert set(result.cursors) == {"customer", "invoice", "payment", "expense"}
    assert not result.deletes_complete  # QBO cannot list deletions older than 30 days


def test_edits_in_quickbooks_appear_and_are_not_sent_back(connected):
    synced(connected)
    customer = next(c for c in connected.qbo_items("Customer") if c["DisplayName"] != "Amy's Bird Sanctuary")
    invoice = open_invoice(connected)
    with bookkeeper(connected) as qbo:
        qbo.update(
            "Customer",
            {
                "Id": customer["Id"],
                "SyncToken": customer["SyncToken"],
                "PrimaryEmailAddr": {"Address": "ap@x.com"},
            },
            rid("cust"),
        )
        qbo.update(
            "Invoice",
            {
                "Id": invoice["Id"],
                "SyncToken": invoice["SyncToken"],
                "DueDate": "2031-01-31",
                "CustomerMemo": {"value": "Edited in QuickBooks"},
            },
            rid("inv"),
        )
        purchase = connected.qbo_items("Purchase")[0]
        qbo.update(
            "Purchase",
            {"Id": purchase["Id"], "SyncToken": purchase["SyncToken"], "TxnDate": "2026-02-27"},
            rid("pur"),
        )
    _, before = linked(connected.sessions, "invoice", invoice["Id"])
    result = pull(connected)
    assert result.count("customer").updated == 1 and result.count("invoice").updated == 1
    assert result.count("expense").updated == 1
    _, expense = linked(connected.sessions, "expense", purchase["Id"])
    assert expense.expense_date.isoformat() == "2026-02-27"
    link, contact = linked(connected.sessions, "customer", customer["Id"])
    assert contact.email == "ap@x.com"
    assert link.last_synced_version == contact.version  # the push will not send it back
    link, inv = linked(connected.sessions, "invoice", invoice["Id"])
    assert inv.memo == "Edited in QuickBooks" and inv.due_date.isoformat() == "2031-01-31"
    assert inv.version == before.version + 1 and link.last_synced_version == inv.version
    assert inv.total == before.total and inv.terms == before.terms  # to the cent; unmapped terms kept
    logs = [log for log in pull_logs(connected.sessions) if log.started_at >= result.started_at]
    assert {(log.entity_type, decision(log)) for log in logs} == {
        ("customer", "update"),
        ("invoice", "update"),
        ("expense", "update"),
    }
    assert all(log.status == "success" for log in logs)
    pushed = connected.push()
    assert pushed.batch_requests == 0  # no ping-pong
    assert pull(connected).changed == 0


def test_void_and_delete_in_quickbooks(connected):
    synced(connected)
    victims = [i for i in connected.qbo_items("Invoice") if not i.get("LinkedTxn")][:2]
    to_void, to_delete = victims
    with bookkeeper(connected) as qbo:
        qbo.void("Invoice", to_void["Id"], to_void["SyncToken"], rid("void"))
        qbo.delete("Invoice", to_delete["Id"], to_delete["SyncToken"], rid("del"))
        purchase = connected.qbo_items("Purchase")[0]
        qbo.delete("Purchase", purchase["Id"], purchase["SyncToken"], rid("pdel"))
    _, before_void = linked(connected.sessions, "invoice", to_void["Id"])
    with connected.sessions.begin() as s:  # someone was editing it in the app meanwhile
        row = s.get(Invoice, before_void.id)
        assert row is not None
        row.memo = "app edit before the void"
    _, before_delete = linked(connected.sessions, "invoice", to_delete["Id"])
    result = pull(connected)
    assert result.count("invoice").voided == 1 and result.count("invoice").deleted == 1
    _, voided = linked(connected.sessions, "invoice", to_void["Id"])
    assert voided.status == "void" and voided.balance == 0 and voided.voided_at is not None
    assert voided.total == before_void.total and len(voided.lines) == len(before_void.lines)  # amounts kept
    assert result.count("invoice").conflicts == 1 and voided.memo == "app edit before the void"
    assert any(d.action == "conflict" and "a void wins" in d.reason for d in result.decisions)
    link, deleted = linked(connected.sessions, "invoice", to_delete["Id"])
    assert deleted.deleted_at is not None and link.external_deleted_at is not None  # soft: the row stays
    assert deleted.total == before_delete.total and deleted.status == before_delete.status
    assert link.last_synced_version == deleted.version
    assert result.count("expense").deleted == 1
    _, expense = linked(connected.sessions, "expense", purchase["Id"])
    assert expense.deleted_at is not None and expense.amount > 0
    assert pull(connected).changed == 0
    assert connected.push().batch_requests == 0


def test_customer_and_invoice_created_in_quickbooks_appear(connected):
    synced(connected)
    with bookkeeper(connected) as qbo:
        customer = qbo.create(
            "Customer", {"DisplayName": "Ridgeview HOA", "CompanyName": "Ridgeview HOA"}, rid("c")
        )
        invoice = qbo.create(
            "Invoice",
            {
                "DocNumber": "QB-7001",
                "TxnDate": "2026-03-02",
                "CustomerRef": {"value": customer["Id"]},
                "Line": [
                    {
                        "Amount": Decimal("1250.00"),
                        "DetailType": "SalesItemLineDetail",
                        "Description": "Retaining wall repair",
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": "1"},
                            "Qty": 1,
                            "UnitPrice": Decimal("1250.00"),
                        },
                    },
                    {
                        "Amount": Decimal("99.95"),
                        "DetailType": "SalesItemLineDetail",
                        "Description": "Permit",
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": "1"},
                            "Qty": 1,
                            "UnitPrice": Decimal("99.95"),
                        },
                    },
                ],
            },
            rid("i"),
        )
    # Only invoices are pulled: the unknown customer is pulled first (read by id), inside the company.
    result = pull(connected, types=("invoice",))
    assert result.count("invoice").created == 1 and result.count("customer").created == 1
    _, contact = linked(connected.sessions, "customer", customer["Id"])
    _, inv = linked(connected.sessions, "invoice", invoice["Id"])
    assert contact.display_name == "Ridgeview HOA" and contact.company_id == connected.connection.company_id
    assert inv.customer_id == contact.id and inv.company_id == connected.connection.company_id
    assert inv.invoice_number == "QB-7001" and inv.total == Decimal(str(invoice["TotalAmt"]))
    assert [line.amount for line in inv.lines] == [Decimal("1250.00"), Decimal("99.95")]
    assert inv.status == "sent" and inv.balance == inv.total
    assert connected.push().batch_requests == 0  # nothing goes back
    again = pull(connected)
    assert again.changed == 0


def test_payments_entered_in_quickbooks_appear_and_move_the_invoice(connected):
    synced(connected)
    unpaid = [i for i in connected.qbo_items("Invoice") if not i.get("LinkedTxn")]
    first, second = next(
        (a, b)
        for a, b in itertools.combinations(unpaid, 2)
        if a["CustomerRef"]["value"] == b["CustomerRef"]["value"]
    )
    with bookkeeper(connected) as qbo:
        partial = qbo.create(
            "Payment",
            {
                "CustomerRef": first["CustomerRef"],
                "TotalAmt": Decimal("10.00"),
                "PaymentRefNum": "CHK-501",
                "Line": [
                    {"Amount": Decimal("10.00"), "LinkedTxn": [{"TxnId": first["Id"], "TxnType": "Invoice"}]}
                ],
            },
            rid("p1"),
        )
    result = pull(connected)
    assert result.count("payment").created == 1 and result.count("invoice").updated == 1
    link, payment = linked(connected.sessions, "payment", partial["Id"])
    _, inv = linked(connected.sessions, "invoice", first["Id"])
    assert payment.amount == Decimal("10.00") and payment.method == "other"
    assert payment.invoice_id == inv.id and payment.customer_id == inv.customer_id
    assert payment.reference_number == "CHK-501" and link.last_synced_version == payment.version
    assert (
        inv.balance == Decimal(str(first["TotalAmt"])) - Decimal("10.00") and inv.status == "partially_paid"
    )
    # One QuickBooks payment paying the rest of the first invoice and all of the second.
    rest_first = Decimal(str(first["TotalAmt"])) - Decimal("10.00")
    all_second = Decimal(str(second["TotalAmt"]))
    with bookkeeper(connected) as qbo:
        both = qbo.create(
            "Payment",
            {
                "CustomerRef": first["CustomerRef"],
                "TotalAmt": rest_first + all_second,
                "Line": [
                    {"Amount": rest_first, "LinkedTxn": [{"TxnId": first["Id"], "TxnType": "Invoice"}]},
                    {"Amount": all_second, "LinkedTxn": [{"TxnId": second["Id"], "TxnType": "Invoice"}]},
                ],
            },
            rid("p2"),
        )
    result = pull(connected)
    assert result.count("payment").created == 2  # one app payment per invoice it pays
    with connected.sessions() as s:
        parts = {
            link.external_id: s.get(Payment, link.app_id)
            for link in s.scalars(select(EntityLink).where(EntityLink.external_id.like(f"{both['Id']}-%")))
        }
    assert sorted(p.amount for p in parts.values()) == sorted([rest_first, all_second])
    for inv_qbo in (first, second):
        _, inv = linked(connected.sessions, "invoice", inv_qbo["Id"])
        assert inv.balance == 0 and inv.status == "paid"
        assert sum(p.amount for p in parts.values() if p.invoice_id == inv.id) > 0
    assert connected.push().batch_requests == 0  # the pulled payments are not pushed back
    assert pull(connected).changed == 0


@pytest.mark.parametrize("winner", ["app", "qbo"])
def test_conflict_is_decided_by_last_write_and_logged(connected, winner):
    synced(connected)
    customer = next(c for c in connected.qbo_items("Customer") if c["DisplayName"] != "Amy's Bird Sanctuary")
    with bookkeeper(connected) as qbo:
        edited = qbo.update(
            "Customer",
            {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "Notes": "QBO note"},
            rid("n"),
        )
    qbo_time = qbo_meta(edited).last_updated
    assert qbo_time is not None
    link, _ = linked(connected.sessions, "customer", customer["Id"])
    with connected.sessions.begin() as s:  # the app edits the same customer, later or earlier
        row = s.get(Contact, link.app_id)
        row.notes = "app note"
        row.updated_at = qbo_time + (timedelta(minutes=5) if winner == "app" else -timedelta(hours=1))
    result = pull(connected)
    assert result.count("customer").conflicts == 1
    conflict = [d for d in result.decisions if d.action == "conflict"]
    assert len(conflict) == 1
    assert ("the app wins" if winner == "app" else "QuickBooks wins") in conflict[0].reason
    logged = [log for log in pull_logs(connected.sessions) if decision(log) == "conflict"]
    assert len(logged) == 1 and logged[0].entity_id == link.app_id
    link_after, row = linked(connected.sessions, "customer", customer["Id"])
    if winner == "app":
        assert row.notes == "app note"
        assert link_after.external_sync_token == link.external_sync_token  # left for the push
        pushed = connected.push(types=("customer",))
        assert pushed.counts["customer"].updated == 1
        assert (
            next(c for c in connected.qbo_items("Customer") if c["Id"] == customer["Id"])["Notes"]
            == "app note"
        )
    else:
        assert row.notes == "QBO note" and link_after.last_synced_version == row.version
        assert connected.push(types=("customer",)).batch_requests == 0


def test_cursor_stops_at_the_sync_start(connected):
    synced(connected)
    customer = next(c for c in connected.qbo_items("Customer") if c["DisplayName"] != "Amy's Bird Sanctuary")
    connected.qbo.admin("POST", "clock", {"advance_seconds": 20})  # QuickBooks' clock runs ahead of ours
    with bookkeeper(connected) as qbo:
        edited = qbo.update(
            "Customer", {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "Notes": "ahead"}, rid("a")
        )
    changed_at = qbo_meta(edited).last_updated
    assert changed_at is not None
    before = utcnow()
    result = pull(connected)
    after = utcnow()
    assert result.count("customer").updated == 1
    with connected.sessions() as s:
        cursors = {c.entity_type: c.cursor_at for c in s.scalars(select(SyncCursor))}
    assert set(cursors) == {"customer", "invoice", "payment", "expense"}
    for at in cursors.values():
        assert at == result.started_at and before <= at <= after
    assert cursors["customer"] < changed_at  # not the latest change seen: the start of the sync
    logs = len(pull_logs(connected.sessions))
    again = pull(connected)  # the edit is read again (its time is past the cursor) and skipped
    assert again.changed == 0 and len(pull_logs(connected.sessions)) == logs


def test_a_failed_object_holds_the_cursor_and_says_what_to_fix(connected):
    synced(connected)
    with connected.sessions() as s:  # an app invoice QuickBooks has never seen (a draft)
        draft = s.scalars(select(Invoice).where(Invoice.status == "draft").limit(1)).one()
        amy = s.scalars(select(EntityLink).where(EntityLink.entity_type == "customer")).first()
    with bookkeeper(connected) as qbo:
        clash = qbo.create(
            "Invoice",
            {
                "DocNumber": draft.invoice_number,
                "CustomerRef": {"value": amy.external_id},
                "Line": [
                    {
                        "Amount": Decimal("5.00"),
                        "DetailType": "SalesItemLineDetail",
                        "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                    }
                ],
            },
            rid("clash"),
        )
    # Our clock runs ahead: without the hold, the cursor would pass the failed object.
    result = pull(connected, clock=lambda: utcnow() + timedelta(minutes=5))
    assert result.count("invoice").failed == 1
    message = result.failures[0].message
    assert f"#{draft.invoice_number}" in message and "Renumber" in message
    clash_at = qbo_meta(clash).last_updated
    assert clash_at is not None
    assert result.cursors["invoice"] == clash_at < result.started_at  # held at the failed object
    assert result.cursors["customer"] == result.started_at
    failed = [log for log in pull_logs(connected.sessions) if log.status == "failed"]
    assert len(failed) == 1 and failed[0].external_entity_id == clash["Id"]
    with connected.sessions() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(Invoice)
                .where(Invoice.invoice_number == draft.invoice_number)
            )
            == 1
        )
    # With no lag window, only the held cursor brings the object back: it is tried again until fixed.
    again = pull(connected, clock=lambda: utcnow() + timedelta(minutes=5), lag=timedelta(0))
    assert again.count("invoice").failed == 1
