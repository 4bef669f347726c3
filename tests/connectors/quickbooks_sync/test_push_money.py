"""An amount with more than two decimals is refused for sync, with an actionable sync-log error, and never
rounded into QuickBooks (issue 18)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, text

from sierra_core.db.models import IntegrationSyncLog, Invoice


def test_an_invoice_total_with_three_decimals_is_refused_not_rounded(connected, db):
    if db.dialect == "postgresql":
        pytest.skip("PostgreSQL's NUMERIC(14,2) rounds 100.125 itself on write: no such value can be stored")
    with connected.sessions() as s:
        invoice = s.scalars(
            select(Invoice).where(Invoice.status == "sent").order_by(Invoice.invoice_number)
        ).first()
        assert invoice is not None
        invoice_id, number = invoice.id, invoice.invoice_number
    with connected.sessions.begin() as s:  # another writer of the app database stored a sub-cent total
        s.execute(
            text("UPDATE invoices SET subtotal = subtotal + 0.005, total = total + 0.005 WHERE id = :id"),
            {"id": invoice_id.hex},
        )
    with connected.sessions() as s:
        stored = s.get(Invoice, invoice_id)
        assert stored is not None
        total = stored.total
    assert total.as_tuple().exponent == -3 and total % Decimal("0.01") != 0
    result = connected.push(types=("invoice",))
    failure = next(f for f in result.failures if f.app_id == invoice_id)
    assert (failure.status, failure.code) == ("failed", "sub_cent_amount")
    assert failure.message == (
        f"QuickBooks sync failed: Invoice #{number}: total {total} has more than two decimals; "
        "QuickBooks keeps amounts to the cent and sierra-sync never rounds them. Correct it to the cent "
        "where it was entered, then sync again."
    )
    assert number not in {i["DocNumber"] for i in connected.qbo_items("Invoice")}
    assert result.counts["invoice"].created > 0  # the others went through
    with connected.sessions() as s:
        attempts = s.scalars(
            select(IntegrationSyncLog).where(IntegrationSyncLog.entity_id == invoice_id)
        ).all()
    assert [(a.status, a.error_code) for a in attempts] == [("failed", "sub_cent_amount")]
