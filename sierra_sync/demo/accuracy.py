"""The demo's check of the promise: every app invoice and payment is in QuickBooks exactly once, to the
cent. Reads both sides independently (the app database, and QuickBooks through its query API)."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.quickbooks.client import QuickBooksClient
from connectors.quickbooks.query import select as qbo_select
from sierra_core.db.models import EntityLink, Invoice, Payment

SYNCED_PAYMENT_STATUSES = ("succeeded", "partially_refunded", "refunded")


@dataclass
class Accuracy:
    invoices_expected: int = 0
    invoices_ok: int = 0
    payments_expected: int = 0
    payments_ok: int = 0
    duplicates_in_qbo: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def records(self) -> int:
        return self.invoices_expected + self.payments_expected

    @property
    def pct(self) -> float:
        ok = self.invoices_ok + self.payments_ok
        wrong = self.records - ok + self.duplicates_in_qbo
        return 100.0 if self.records == 0 else round(100.0 * max(self.records - wrong, 0) / self.records, 2)

    def add(self, other: Accuracy) -> None:
        self.invoices_expected += other.invoices_expected
        self.invoices_ok += other.invoices_ok
        self.payments_expected += other.payments_expected
        self.payments_ok += other.payments_ok
        self.duplicates_in_qbo += other.duplicates_in_qbo
        self.mismatches += other.mismatches


def _money(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else "0")).quantize(Decimal("0.01"))


def _links(session: Session, integration_id: uuid.UUID, entity_type: str) -> dict[uuid.UUID, str]:
    rows = session.execute(
        select(EntityLink.app_id, EntityLink.external_id).where(
            EntityLink.integration_id == integration_id, EntityLink.entity_type == entity_type
        )
    ).all()
    return {app_id: external for app_id, external in rows}


def check_company(
    sessions: sessionmaker[Session],
    client: QuickBooksClient,
    integration_id: uuid.UUID,
    company_id: uuid.UUID,
) -> Accuracy:
    """Compare one company's invoices and payments with its QuickBooks company."""
    out = Accuracy()
    qbo_invoices = {str(r["Id"]): r for r in client.query_all(qbo_select("Invoice"))}
    qbo_payments = {str(r["Id"]): r for r in client.query_all(qbo_select("Payment"))}
    with sessions() as session:
        invoice_links = _links(session, integration_id, "invoice")
        payment_links = _links(session, integration_id, "payment")
        invoices = session.scalars(
            select(Invoice).where(
                Invoice.company_id == company_id,
                Invoice.deleted_at.is_(None),
                Invoice.status.not_in(("draft", "void")),
            )
        ).all()
        payments = session.scalars(
            select(Payment).where(
                Payment.company_id == company_id,
                Payment.deleted_at.is_(None),
                Payment.status.in_(SYNCED_PAYMENT_STATUSES),
            )
        ).all()
        numbers = {inv.invoice_number for inv in invoices}
        for inv in invoices:
            out.invoices_expected += 1
            remote = qbo_invoices.get(invoice_links.get(inv.id, ""))
            if remote is None:
                out.mismatches.append(f"invoice {inv.invoice_number}: not in QuickBooks")
            elif _money(remote.get("TotalAmt")) != inv.total or _money(remote.get("Balance")) != inv.balance:
                out.mismatches.append(
                    f"invoice {inv.invoice_number}: app {inv.total}/{inv.balance}, QuickBooks "
                    f"{remote.get('TotalAmt')}/{remote.get('Balance')} (total/balance)"
                )
            else:
                out.invoices_ok += 1
        for pay in payments:
            out.payments_expected += 1
            remote = qbo_payments.get(payment_links.get(pay.id, ""))
            if remote is None:
                out.mismatches.append(f"payment {pay.reference_number or pay.id}: not in QuickBooks")
            elif _money(remote.get("TotalAmt")) != pay.amount:
                out.mismatches.append(
                    f"payment {pay.reference_number or pay.id}: app {pay.amount}, "
                    f"QuickBooks {remote.get('TotalAmt')}"
                )
            else:
                out.payments_ok += 1
    counts = Counter(str(r.get("DocNumber")) for r in qbo_invoices.values() if r.get("DocNumber") in numbers)
    out.duplicates_in_qbo = sum(n - 1 for n in counts.values() if n > 1)
    return out
