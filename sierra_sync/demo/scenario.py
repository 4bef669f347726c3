"""What happens to the books between syncs in the demo: edits in the app (amounts) and in the accounting
system, QuickBooks or Xero (memos and due dates), chosen so the two sides never touch the same invoice."""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from sierra_core.db.models import Contact, EntityLink, Invoice, Payment
from sierra_sync.demo.books import Books

CENT = Decimal("0.01")


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def unpaid_invoices(session: Session, company_id: uuid.UUID) -> list[Invoice]:
    paid = select(Payment.invoice_id).where(Payment.invoice_id.is_not(None))
    return list(
        session.scalars(
            select(Invoice)
            .where(
                Invoice.company_id == company_id,
                Invoice.status == "sent",
                Invoice.deleted_at.is_(None),
                Invoice.id.not_in(paid),
            )
            .options(selectinload(Invoice.lines))
            .order_by(Invoice.invoice_number)
        )
    )


def edit_in_app(sessions: sessionmaker[Session], company_id: uuid.UUID, invoices: int, contacts: int) -> int:
    """One more unit on the first line of `invoices` unpaid invoices (totals recomputed to the cent), and
    a new email on `contacts` customers: what an estimator and a bookkeeper change in a day."""
    changed = 0
    with sessions.begin() as session:
        for inv in unpaid_invoices(session, company_id)[:invoices]:
            line = min(inv.lines, key=lambda li: li.line_number)
            line.quantity += 1
            line.amount = _money(line.quantity * line.unit_price)
            subtotal = sum((li.amount for li in inv.lines), Decimal("0.00"))
            taxable = sum((li.amount for li in inv.lines if li.taxable), Decimal("0.00"))
            inv.subtotal = subtotal
            inv.tax_amount = _money(taxable * inv.tax_rate)
            inv.total = inv.balance = inv.subtotal + inv.tax_amount
            inv.version += 1
            changed += 1
        rows = session.scalars(
            select(Contact)
            .where(Contact.company_id == company_id, Contact.contact_type == "customer")
            .order_by(Contact.display_name)
            .limit(contacts)
        )
        for contact in rows:
            contact.email = f"accounts+{contact.id.hex[:6]}@example.com"
            contact.version += 1
            changed += 1
    return changed


def edit_in_books(
    sessions: sessionmaker[Session],
    books: Books,
    integration_id: uuid.UUID,
    company_id: uuid.UUID,
    invoices: int,
) -> int:
    """A bookkeeper's edits in the company's books: a memo and a later due date on `invoices` invoices,
    taken from the end of the list (the app edits take the start), so no invoice changes on both sides."""
    with sessions() as session:
        targets = [inv.id for inv in unpaid_invoices(session, company_id)][-invoices:]
        links = dict(
            session.execute(
                select(EntityLink.app_id, EntityLink.external_id).where(
                    EntityLink.integration_id == integration_id,
                    EntityLink.entity_type == "invoice",
                    EntityLink.app_id.in_(targets),
                )
            ).all()
        )
    return books.edit_invoices([links[t] for t in targets if t in links], integration_id)
