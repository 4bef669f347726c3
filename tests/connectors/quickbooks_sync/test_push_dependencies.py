"""A record whose dependency only a person can fix (its customer deleted, missing or of another company;
the invoice a payment pays deleted) fails once, not retried, with an error code naming the dependency and
the fix; one whose dependency is merely on its way waits for it (retryable, `dependency_pending`)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, text, update

from sierra_core import synclog
from sierra_core.db.models import Contact, Integration, IntegrationSyncLog, Invoice, Payment
from sierra_core.db.types import utcnow
from tests import factories


def _invoice(connected) -> Invoice:
    with connected.sessions() as s:
        invoice = s.scalars(
            select(Invoice).where(Invoice.status == "sent").order_by(Invoice.invoice_number)
        ).first()
        assert isinstance(invoice, Invoice)
        return invoice


def _attempts(connected, entity_id: uuid.UUID) -> list[IntegrationSyncLog]:
    with connected.sessions() as s:
        return list(s.scalars(select(IntegrationSyncLog).where(IntegrationSyncLog.entity_id == entity_id)))


def _assert_fails_once(connected, entity_id: uuid.UUID, code: str, *phrases: str) -> IntegrationSyncLog:
    attempts = _attempts(connected, entity_id)
    assert len(attempts) == 1, [(a.status, a.error_code) for a in attempts]
    attempt = attempts[0]
    assert (attempt.status, attempt.error_code, attempt.next_retry_at) == ("failed", code, None)
    for phrase in phrases:
        assert phrase in (attempt.error_message or ""), attempt.error_message
    with connected.sessions.begin() as s:  # the sweep never picks it up: only a person can fix it
        claims = synclog.claim_due_retries(s, now=utcnow() + timedelta(days=1))
    assert entity_id not in {c.entity_id for c in claims}
    return attempt


def test_invoice_of_a_deleted_customer_fails_once_naming_the_customer_and_the_fix(connected):
    invoice = _invoice(connected)
    with connected.sessions.begin() as s:
        customer = s.get(Contact, invoice.customer_id)
        assert customer is not None
        customer.deleted_at = utcnow()
        name = customer.display_name
    result = connected.push(types=("invoice",))
    failure = next(f for f in result.failures if f.app_id == invoice.id)
    assert (failure.status, failure.code) == ("failed", "customer_deleted")
    _assert_fails_once(
        connected,
        invoice.id,
        "customer_deleted",
        f"Invoice #{invoice.invoice_number}: its customer '{name}' was deleted in the app",
        "restore the customer, or relink the record to another customer",
    )
    assert all("not in QuickBooks yet" not in f.message for f in result.failures if f.app_id == invoice.id)


def test_invoice_whose_customer_does_not_exist_fails_once(connected, db):
    invoice = _invoice(connected)
    ghost = uuid.uuid4()
    with connected.sessions.begin() as s:  # written by a tool that bypassed the foreign key
        if db.dialect == "postgresql":
            s.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            s.execute(text("PRAGMA defer_foreign_keys = ON"))
            s.execute(text("PRAGMA foreign_keys = OFF"))
        s.execute(update(Invoice).where(Invoice.id == invoice.id).values(customer_id=ghost))
    connected.push(types=("invoice",), ids=[invoice.id])
    _assert_fails_once(
        connected, invoice.id, "customer_not_found", f"its customer (id {ghost}) does not exist in the app"
    )


def test_invoice_relinked_to_another_companys_customer_fails_once(connected):
    invoice = _invoice(connected)
    with connected.sessions.begin() as s:
        other = factories.company(s)
        stranger = Contact(company_id=other.id, display_name="Elsewhere Ltd", contact_type="customer")
        s.add(stranger)
        s.flush()
        s.execute(update(Invoice).where(Invoice.id == invoice.id).values(customer_id=stranger.id))
    connected.push(types=("invoice",), ids=[invoice.id])
    _assert_fails_once(
        connected, invoice.id, "customer_not_found", "does not exist in the app for this company"
    )


def test_payment_of_a_deleted_invoice_fails_once(connected):
    with connected.sessions.begin() as s:
        payment = s.scalars(select(Payment).where(Payment.invoice_id.is_not(None))).first()
        assert payment is not None
        invoice = s.get(Invoice, payment.invoice_id)
        assert invoice is not None
        invoice.deleted_at = utcnow()
        payment_id, number = payment.id, invoice.invoice_number
    connected.push(types=("payment",), ids=[payment_id])
    _assert_fails_once(
        connected, payment_id, "invoice_deleted", f"the invoice it pays (#{number}) was deleted in the app"
    )


def test_invoice_waits_for_a_customer_that_is_only_retrying(connected):
    """QuickBooks refuses the customer for a while: the invoice is retryable, with a code, and follows it."""
    invoice = _invoice(connected)
    realm = connected.connection.realm_id
    connected.qbo.admin("POST", "faults", {"realm": realm, "error_rate": 1.0})
    try:
        result = connected.push(types=("invoice",), ids=[invoice.id])
    finally:
        connected.qbo.admin("POST", "faults", {"realm": realm, "error_rate": 0.0})
    failure = next(f for f in result.failures if f.app_id == invoice.id)
    assert failure.status == "retrying" and failure.code is not None
    with connected.sessions() as s:
        assert s.scalar(select(Integration.id)) == connected.connection.integration_id
        rows = s.scalars(
            select(IntegrationSyncLog).where(IntegrationSyncLog.status.in_(["failed", "retrying"]))
        ).all()
    assert rows and all(row.error_code for row in rows)  # every failed attempt carries a code
