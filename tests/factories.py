"""Small builders for test rows (ORM objects with sensible defaults)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from sierra_core.db.models import Company, Contact, Integration, Invoice, InvoiceLineItem


def company(session: Session, name: str | None = None) -> Company:
    row = Company(name=name or f"Test Builders {uuid.uuid4().hex[:6]}")
    session.add(row)
    session.flush()
    return row


def integration(session: Session, company_id: uuid.UUID, **kw: Any) -> Integration:
    row = Integration(
        company_id=company_id, integration_type=kw.pop("integration_type", "quickbooks_online"), **kw
    )
    session.add(row)
    session.flush()
    return row


def customer(session: Session, company_id: uuid.UUID, name: str = "Amy's Bird Sanctuary") -> Contact:
    row = Contact(company_id=company_id, display_name=name, email="amy@example.com")
    session.add(row)
    session.flush()
    return row


def invoice(
    session: Session,
    company_id: uuid.UUID,
    customer_id: uuid.UUID,
    number: str = "1001",
    lines: list[tuple[str, Decimal, Decimal]] | None = None,
    tax: Decimal = Decimal("0.00"),
) -> Invoice:
    lines = lines or [("Framing labor", Decimal("10"), Decimal("85.00"))]
    items = [
        InvoiceLineItem(
            line_number=i, description=d, quantity=q, unit_price=p, amount=(q * p).quantize(Decimal("0.01"))
        )
        for i, (d, q, p) in enumerate(lines, start=1)
    ]
    subtotal = sum((li.amount for li in items), Decimal("0.00"))
    row = Invoice(
        company_id=company_id,
        customer_id=customer_id,
        invoice_number=number,
        issue_date=date(2026, 10, 1),
        subtotal=subtotal,
        tax_amount=tax,
        total=subtotal + tax,
        balance=subtotal + tax,
        status="sent",
        lines=items,
    )
    session.add(row)
    session.flush()
    return row
