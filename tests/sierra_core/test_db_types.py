"""Money stays exact to the cent and times stay aware and UTC, on both dialects."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import StatementError

from sierra_core.db import migrate
from sierra_core.db.engine import make_engine, session_factory
from sierra_core.db.models import Invoice, InvoiceLineItem
from sierra_core.db.types import Fixed, SubCentError
from tests import factories


@pytest.mark.parametrize(
    "amount",
    ["0.01", "0.10", "0.30", "19.99", "119.60", "45000.00", "999999999999.99", "-12.34"],
)
def test_money_round_trips_exactly(sessions, amount):
    with sessions.begin() as s:
        c = factories.company(s)
        cust = factories.customer(s, c.id)
        inv = factories.invoice(s, c.id, cust.id, tax=Decimal("0.00"))
        inv.memo = amount
        line = inv.lines[0]
        line.amount = Decimal(amount)
        line_id = line.id
    with sessions() as s:
        got = s.get(InvoiceLineItem, line_id)
        assert got is not None
        assert got.amount == Decimal(amount)
        assert isinstance(got.amount, Decimal)
        assert str(got.amount) == amount


def test_money_sum_is_exact_in_sql(sessions):
    # 0.10 + 0.20 is the classic float trap; the sum must come back as 0.30 exactly.
    with sessions.begin() as s:
        c = factories.company(s)
        cust = factories.customer(s, c.id)
        factories.invoice(s, c.id, cust.id, "A1", [("a", Decimal(1), Decimal("0.10"))])
        factories.invoice(s, c.id, cust.id, "A2", [("b", Decimal(1), Decimal("0.20"))])
    with sessions() as s:
        total = s.scalar(select(func.sum(Invoice.total)))
    assert total == Decimal("0.30")
    assert str(total) == "0.30"


def test_money_refuses_float():
    with pytest.raises(TypeError, match="never float"):
        Fixed(14, 2).process_bind_param(0.1, dialect=None)  # type: ignore[arg-type]


def test_money_with_more_than_two_decimals_is_refused_never_rounded(sessions):
    """2.675 is neither 2.67 nor 2.68: writing it fails with an error that says so, and nothing is stored."""
    with sessions.begin() as s:
        c = factories.company(s)
        cust = factories.customer(s, c.id)
        inv = factories.invoice(s, c.id, cust.id)
        line_id, before = inv.lines[0].id, inv.lines[0].amount
    with sessions.begin() as s:
        line = s.get(InvoiceLineItem, line_id)
        assert line is not None
        line.amount = Decimal("2.675")
        with pytest.raises(StatementError, match=r"amount 2.675 has more than 2 decimal places") as err:
            s.flush()
        s.rollback()
    assert isinstance(err.value.orig, SubCentError)
    with sessions() as s:
        line = s.get(InvoiceLineItem, line_id)
        assert line is not None and line.amount == before
    with sessions.begin() as s:  # trailing zeros are not extra decimals
        line = s.get(InvoiceLineItem, line_id)
        assert line is not None
        line.amount = Decimal("2.6700")
    with sessions() as s:
        line = s.get(InvoiceLineItem, line_id)
        assert line is not None and str(line.amount) == "2.67"


def test_a_sub_cent_amount_another_writer_stored_is_read_as_it_is(tmp_path):
    """SQLite keeps what another writer put in a NUMERIC column (PostgreSQL's NUMERIC(14,2) rounds it on
    write, out of our hands): it comes back exact, for the sync to refuse and reconciliation to report."""
    engine = make_engine(f"sqlite:///{tmp_path}/raw.db")
    migrate.upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        c = factories.company(s)
        cust = factories.customer(s, c.id)
        inv = factories.invoice(s, c.id, cust.id, tax=Decimal("0.00"))
        invoice_id = inv.id
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE invoices SET subtotal = 100.125, total = 100.125, balance = 0 WHERE id = :id"),
            {"id": invoice_id.hex},
        )
    with sessions() as s:
        invoice = s.get(Invoice, invoice_id)
        assert invoice is not None and invoice.total == Decimal("100.125")
        assert s.scalar(select(func.sum(Invoice.total))) == Decimal("100.125")
    engine.dispose()


def test_money_column_is_numeric_14_2(engine):
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            row = conn.execute(
                text(
                    "SELECT numeric_precision, numeric_scale FROM information_schema.columns "
                    "WHERE table_schema = current_schema() "
                    "AND table_name = 'invoices' AND column_name = 'total'"
                )
            ).one()
            assert tuple(row) == (14, 2)
        else:
            decl = [r[2] for r in conn.execute(text("PRAGMA table_info(invoices)")) if r[1] == "total"]
            assert decl == ["NUMERIC(14, 2)"]


def test_datetimes_come_back_aware_in_utc(sessions):
    pacific = timezone(timedelta(hours=-8))
    sent = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=pacific)
    with sessions.begin() as s:
        c = factories.company(s)
        cust = factories.customer(s, c.id)
        inv = factories.invoice(s, c.id, cust.id)
        inv.sent_at = sent
        inv_id = inv.id
    with sessions() as s:
        got = s.get(Invoice, inv_id)
        assert got is not None and got.sent_at is not None
        assert got.sent_at.tzinfo is not None
        assert got.sent_at.utcoffset() == timedelta(0)
        assert got.sent_at == sent
        assert got.created_at.tzinfo is not None


def test_naive_datetime_is_refused(sessions):
    with sessions() as s:
        c = factories.company(s)
        inv = factories.invoice(s, c.id, factories.customer(s, c.id).id)
        inv.sent_at = datetime(2026, 1, 1)
        with pytest.raises(StatementError, match="naive datetime"):
            s.flush()


def test_uuid_keys_on_both_dialects(sessions):
    with sessions.begin() as s:
        c = factories.company(s)
        cid = c.id
    with sessions() as s:
        assert s.get(type(c), cid) is not None
    assert cid.version == 4


def test_reconciliation_reads_a_stored_sub_cent_amount_as_it_is(tmp_path):
    """The app side of a reconciliation carries the exact amount, so the classifier reports it."""
    from datetime import date

    from connectors.reconcile.sources import load_app

    engine = make_engine(f"sqlite:///{tmp_path}/recon.db")
    migrate.upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        c = factories.company(s)
        integration = factories.integration(s, c.id)
        cust = factories.customer(s, c.id)
        odd = factories.invoice(s, c.id, cust.id, "ODD-1", tax=Decimal("0.00"))
        factories.invoice(s, c.id, cust.id, "OK-1", tax=Decimal("0.00"))
        ids = (c.id, integration.id, odd.id)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE invoices SET subtotal = 100.125, total = 100.125, balance = 0 WHERE id = :id"),
            {"id": ids[2].hex},
        )
    with sessions() as s:
        app = load_app(s, ids[0], ids[1], date(2000, 1, 1), date(2100, 1, 1))
    invoices = app[app["entity_type"] == "invoice"].set_index("number")
    assert invoices.loc["ODD-1", "exact_amount"] == "100.125"
    assert invoices["exact_amount"].isna().loc["OK-1"]
    engine.dispose()
