"""The demo's check of the promise: every app invoice and payment is in the company's books (QuickBooks or
Xero) exactly once, to the cent. Reads both sides independently (the app database, and the accounting
system through its own API)."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sierra_core.db.models import EntityLink, Invoice, Payment
from sierra_sync.demo.books import Books

SYNCED_PAYMENT_STATUSES = ("succeeded", "partially_refunded", "refunded")


@dataclass
class Accuracy:
    invoices_expected: int = 0
    invoices_ok: int = 0
    payments_expected: int = 0
    payments_ok: int = 0
    duplicates: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def records(self) -> int:
        return self.invoices_expected + self.payments_expected

    @property
    def pct(self) -> float:
        ok = self.invoices_ok + self.payments_ok
        wrong = self.records - ok + self.duplicates
        return 100.0 if self.records == 0 else round(100.0 * max(self.records - wrong, 0) / self.records, 2)

    def add(self, other: Accuracy) -> None:
        self.invoices_expected += other.invoices_expected
        self.invoices_ok += other.invoices_ok
        self.payments_expected += other.payments_expected
        self.payments_ok += other.payments_ok
        self.duplicates += other.duplicates
        self.mismatches += other.mismatches


def _links(session: Session, integration_id: uuid.UUID, entity_type: str) -> dict[uuid.UUID, str]:
    rows = session.execute(
        select(EntityLink.app_id, EntityLink.external_id).where(
            EntityLink.integration_id == integration_id, EntityLink.entity_type == entity_type
        )
    ).all()
    return {app_id: external for app_id, external in rows}


def check_company(
    sessions: sessionmaker[Session], books: Books, integration_id: uuid.UUID, company_id: uuid.UUID
) -> Accuracy:
    """Compare one company's invoices and payments with its books."""
    out = Accuracy()
    system = books.system
    remote_invoices = books.invoices()
    remote_payments = books.payments()
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
            remote = remote_invoices.get(invoice_links.get(inv.id, ""))
            if remote is None:
                out.mismatches.append(f"invoice {inv.invoice_number}: not in {system}")
            elif remote.total != inv.total or remote.balance != inv.balance:
                out.mismatches.append(
                    f"invoice {inv.invoice_number}: app {inv.total}/{inv.balance}, {system} "
                    f"{remote.total}/{remote.balance} (total/balance due)"
                )
            else:
                out.invoices_ok += 1
        for pay in payments:
            out.payments_expected += 1
            amount = remote_payments.get(payment_links.get(pay.id, ""))
            if amount is None:
                out.mismatches.append(f"payment {pay.reference_number or pay.id}: not in {system}")
            elif amount != pay.amount:
                out.mismatches.append(
                    f"payment {pay.reference_number or pay.id}: app {pay.amount}, {system} {amount}"
                )
            else:
                out.payments_ok += 1
    counts = Counter(r.number for r in remote_invoices.values() if r.number in numbers)
    out.duplicates = sum(n - 1 for n in counts.values() if n > 1)
    return out
