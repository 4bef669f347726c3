"""The seed is deterministic, realistic, internally consistent to the cent, and never touches stored data."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from sqlalchemy import func, select

from connectors.seed.generate import seed
from sierra_core.db.models import Company, Contact, Expense, Invoice, InvoiceLineItem, Payment


def _snapshot(engine):
    with engine.connect() as conn:
        invoices = conn.execute(
            select(
                Invoice.id, Invoice.invoice_number, Invoice.total, Invoice.balance, Invoice.status
            ).order_by(Invoice.id)
        ).all()
        names = conn.execute(select(Contact.display_name).order_by(Contact.id)).scalars().all()
    return invoices, names


def test_same_seed_same_data_and_rerun_is_a_no_op(engine):
    first = seed(engine, companies=2, invoices=60, seed_value=7)
    snap = _snapshot(engine)
    again = seed(engine, companies=2, invoices=60, seed_value=7)
    assert (first.companies_created, again.companies_created, again.companies_skipped) == (2, 0, 2)
    assert _snapshot(engine) == snap


def test_seeded_rows_are_consistent_to_the_cent(engine):
    seed(engine, companies=1, invoices=200, seed_value=3)
    with engine.connect() as conn:
        invoices = conn.execute(select(Invoice)).all()
        line_sums = dict(
            conn.execute(
                select(InvoiceLineItem.invoice_id, func.sum(InvoiceLineItem.amount)).group_by(
                    InvoiceLineItem.invoice_id
                )
            ).all()
        )
        line_counts = Counter(conn.execute(select(InvoiceLineItem.invoice_id)).scalars().all())
        paid = dict(
            conn.execute(
                select(Payment.invoice_id, func.sum(Payment.amount)).group_by(Payment.invoice_id)
            ).all()
        )
    statuses = Counter(inv.status for inv in invoices)
    assert set(statuses) == {"draft", "sent", "partially_paid", "paid", "void"}
    for inv in invoices:
        assert 1 <= line_counts[inv.id] <= 8
        assert line_sums[inv.id] == inv.subtotal
        assert inv.total == inv.subtotal + inv.tax_amount
        received = paid.get(inv.id, Decimal("0.00"))
        if inv.status == "void":
            assert inv.balance == Decimal("0.00") and received == 0
        else:
            assert inv.balance == inv.total - received
        if inv.status == "paid":
            assert inv.balance == 0
        if inv.status == "partially_paid":
            assert 0 < inv.balance < inv.total
    assert any(inv.tax_amount > 0 for inv in invoices)


def test_names_include_apostrophes_and_accents(engine):
    seed(engine, companies=1, invoices=300, seed_value=11)
    with engine.connect() as conn:
        names = conn.execute(select(Contact.display_name)).scalars().all()
        expenses = conn.execute(select(func.count()).select_from(Expense)).scalar_one()
        companies = conn.execute(select(Company.name)).scalars().all()
    assert any("'" in n for n in names)
    assert any(any(ord(ch) > 127 for ch in n) for n in names)
    assert len(set(names)) == len(names)  # QuickBooks DisplayName is unique per realm
    assert expenses > 0 and companies == ["Summit Ridge Builders"]


def test_adding_companies_keeps_the_earlier_ones(engine):
    seed(engine, companies=1, invoices=20, seed_value=5)
    before = _snapshot(engine)
    summary = seed(engine, companies=2, invoices=20, seed_value=5)
    assert (summary.companies_created, summary.companies_skipped) == (1, 1)
    after_invoices, _ = _snapshot(engine)
    assert set(before[0]) <= set(after_invoices)
