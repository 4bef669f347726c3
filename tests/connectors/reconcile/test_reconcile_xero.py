"""Reconciliation of a company kept in Xero, against the Xero and Stripe sandboxes over real sockets, on
SQLite and PostgreSQL: the company's records are pushed to Xero through the Xero client and the Xero
mappings (more than one page of invoices), a clean state is 100.00 % with the Xero totals equal to the
app's to the cent, and discrepancies seeded in Xero, the app and Stripe are each found once, in Xero's
words, in the same report shape as QuickBooks'."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import stripe as stripe_sdk
from sqlalchemy import select, update

from connectors.reconcile.report import markdown
from connectors.reconcile.run import Scope, reconcile_once
from connectors.stripe import StripeGateway
from connectors.xero import mapping
from connectors.xero.client import XeroClient
from connectors.xero.outcomes import BatchRecord, Saved
from connectors.xero.settings import XeroSettings
from sierra_core.db.models import Contact, EntityLink, Expense, Invoice, InvoiceLineItem, Payment
from tests.sandbox.xero.conftest import xero  # noqa: F401 - fixture
from tests.sandbox.xero.test_connect_and_client import connected  # noqa: F401 - fixture

START, END = date(2026, 10, 1), date(2099, 12, 31)  # Stripe charges are dated by the wall clock
SETTINGS = XeroSettings(taxable_tax_type="OUTPUT2")
INVOICES = 104  # more than one page of 100


@dataclass
class Books:
    client: XeroClient
    sessions: Any
    company_id: uuid.UUID
    integration_id: uuid.UUID
    tenant: str

    def scope(self) -> Scope:
        return Scope(self.company_id, self.integration_id, START, END, Decimal("0.01"))

    def link(self, entity_type: str, app_id: uuid.UUID, external_id: str) -> None:
        with self.sessions.begin() as s:
            s.add(
                EntityLink(
                    integration_id=self.integration_id,
                    company_id=self.company_id,
                    entity_type=entity_type,
                    app_id=app_id,
                    external_id=external_id,
                )
            )

    def push(
        self, entity_type: str, resource: str, rows: list[tuple[uuid.UUID, dict[str, Any]]]
    ) -> list[str]:
        outcomes = self.client.save(resource, [BatchRecord(str(i), doc) for i, doc in rows])
        ids = []
        for (app_id, _doc), outcome in zip(rows, outcomes, strict=True):
            assert isinstance(outcome, Saved), outcome
            self.link(entity_type, app_id, outcome.xero_id)
            ids.append(outcome.xero_id)
        return ids


def _invoice(company_id: uuid.UUID, customer_id: uuid.UUID, number: str, price: str, taxed: bool) -> Invoice:
    amount = Decimal(price) * 3
    tax = (amount * Decimal("0.15")).quantize(Decimal("0.01")) if taxed else Decimal("0.00")
    return Invoice(
        company_id=company_id,
        customer_id=customer_id,
        invoice_number=number,
        issue_date=date(2026, 10, 5),
        subtotal=amount,
        tax_rate=Decimal("0.15") if taxed else Decimal("0"),
        tax_amount=tax,
        total=amount + tax,
        balance=amount + tax,
        status="sent",
        lines=[
            InvoiceLineItem(
                line_number=1,
                description="Framing",
                quantity=Decimal(3),
                unit_price=Decimal(price),
                amount=amount,
            )
        ],
    )


@pytest.fixture
def books(connected: Any) -> Any:  # noqa: F811
    """A company with customers, 104 invoices (some taxed), a payment and an expense, all pushed to its
    Xero organisation and linked."""
    app, source, tenant, _http, (sessions, _ring, integration_id) = connected
    with sessions() as s:
        company_id = _company_of(s, integration_id)
    with sessions.begin() as s:
        customers = [Contact(company_id=company_id, display_name=f"Client {n}") for n in range(2)]
        s.add_all(customers)
        s.flush()
        invoices = [
            _invoice(company_id, customers[n % 2].id, f"INV-{n:04d}", f"{100 + n}.35", taxed=n % 3 == 0)
            for n in range(INVOICES)
        ]
        s.add_all(invoices)
        s.flush()
        first = invoices[0]
        payment = Payment(
            company_id=company_id,
            customer_id=first.customer_id,
            invoice_id=first.id,
            amount=first.total,
            payment_date=date(2026, 10, 9),
            method="card",
            status="succeeded",
            reference_number="PAY-1",
        )
        expense = Expense(
            company_id=company_id,
            vendor_name="Lumber Yard",
            category="materials",
            payment_type="credit_card",
            amount=Decimal("812.44"),
            expense_date=date(2026, 10, 12),
            reference_number="EXP-1",
        )
        s.add_all([payment, expense])
        s.flush()
        customer_rows = [(c.id, mapping.contact_to_xero(c)) for c in customers]
        customer_ids = [c.id for c in customers]
        invoice_docs = [(i.id, i.customer_id, i) for i in invoices]
        s.expunge_all()
    with XeroClient(app.api_base_url, tenant, source) as client:
        b = Books(client, sessions, company_id, integration_id, tenant)
        contact_ids = b.push("customer", "Contacts", customer_rows)
        by_customer = dict(zip(customer_ids, contact_ids, strict=True))
        invoice_rows = [
            (i, mapping.invoice_to_xero(inv, by_customer[c], SETTINGS)) for i, c, inv in invoice_docs
        ]
        invoice_ids = b.push("invoice", "Invoices", invoice_rows)
        b.push(
            "payment", "Payments", [(payment.id, mapping.payment_to_xero(payment, invoice_ids[0], SETTINGS))]
        )
        b.push("expense", "BankTransactions", [(expense.id, mapping.expense_to_xero(expense, SETTINGS))])
        with sessions.begin() as s:
            s.execute(
                update(Invoice).where(Invoice.id == first.id).values(balance=Decimal("0.00"), status="paid")
            )
        yield b


def _company_of(session: Any, integration_id: uuid.UUID) -> uuid.UUID:
    from sierra_core.db.models import Integration

    row = session.get(Integration, integration_id)
    return uuid.UUID(str(row.company_id))


def test_a_clean_xero_company_reconciles_at_100_percent_to_the_cent(books: Books) -> None:
    outcome = reconcile_once(books.sessions, books.client, None, books.scope())
    r = outcome.result
    assert r["discrepancies"] == [], r["discrepancies"][:5]
    assert r["accuracy_pct"] == Decimal("100.00") and r["amount_accuracy_pct"] == Decimal("100.00")
    assert r["accounting"] == "xero" and set(r["totals"]) == {"app", "xero"}
    for entity_type in ("customer", "invoice", "payment", "expense"):
        assert r["totals"]["app"][entity_type] == r["totals"]["xero"][entity_type], entity_type
    assert r["totals"]["xero"]["invoice"]["records"] == INVOICES
    expected = Decimal(0)
    with books.sessions() as s:
        for total in s.scalars(select(Invoice.total).where(Invoice.company_id == books.company_id)):
            expected += total
    assert Decimal(r["totals"]["xero"]["invoice"]["amount"]) == expected
    assert r["by_entity"]["expense"]["records_matched"] == 1 == r["by_entity"]["payment"]["records_matched"]
    assert "the app, Xero and Stripe agree" in markdown(r, company="Xero Builders")


def test_discrepancies_in_xero_the_app_and_stripe_are_each_found_once(
    books: Books, stripe_sandbox: Any
) -> None:
    client = books.client
    with books.sessions() as s:
        links = {
            (e.entity_type, e.app_id): e.external_id
            for e in s.scalars(select(EntityLink).where(EntityLink.integration_id == books.integration_id))
        }
        invoices = list(
            s.scalars(
                select(Invoice).where(Invoice.company_id == books.company_id).order_by(Invoice.invoice_number)
            )
        )
        payment = s.scalars(select(Payment).where(Payment.company_id == books.company_id)).one()
    edited, voided_in_app, voided_in_xero = invoices[1], invoices[2], invoices[4]
    # an amount edited in Xero: the line's unit price + 1.00 (3 units: +3.00, no tax on this one)
    doc = client.get("Invoices", links[("invoice", edited.id)])
    line = dict(doc["LineItems"][0])
    line["UnitAmount"] = Decimal(str(line["UnitAmount"])) + 1
    line.pop("LineAmount", None)
    [saved] = client.save(
        "Invoices", [BatchRecord("edit", {"InvoiceID": doc["InvoiceID"], "LineItems": [line]})]
    )
    assert isinstance(saved, Saved) and Decimal(str(saved.document["Total"])) == edited.total + 3
    # voided in Xero only, and an invoice made in Xero that the app does not know
    client.void_invoice(client.get("Invoices", links[("invoice", voided_in_xero.id)]))
    contact_id = links[("customer", edited.customer_id)]
    extra = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "Date": date(2026, 10, 20),
        "Status": "AUTHORISED",
        "LineAmountTypes": "NoTax",
        "InvoiceNumber": "XERO-ONLY-1",
        "LineItems": [
            {"Description": "Extra", "Quantity": 1, "UnitAmount": Decimal("77.70"), "AccountCode": "200"}
        ],
    }
    assert isinstance(client.save("Invoices", [BatchRecord("extra", extra)])[0], Saved)
    # one dated before the period: not this period's
    earlier = extra | {"InvoiceNumber": "XERO-EARLIER", "Date": date(2026, 9, 30)}
    assert isinstance(client.save("Invoices", [BatchRecord("earlier", earlier)])[0], Saved)
    # a bill (ACCPAY) in the period is not a sales invoice: never reported
    bill = extra | {"Type": "ACCPAY", "InvoiceNumber": None, "Reference": "BILL-1"}
    assert isinstance(client.save("Invoices", [BatchRecord("bill", bill)])[0], Saved)
    # void in the app only; a new app invoice never pushed
    with books.sessions.begin() as s:
        s.execute(update(Invoice).where(Invoice.id == voided_in_app.id).values(status="void"))
        new = _invoice(books.company_id, edited.customer_id, "NEW-0001", "50.00", taxed=False)
        s.add(new)
        s.flush()
        never_pushed = new.id
    # Stripe: the app's payment is a charge; another charge of this company nobody recorded
    sdk = stripe_sdk.StripeClient("sk_test_reconcile", base_addresses={"api": stripe_sandbox.url})
    known = sdk.v1.payment_intents.create(
        params={
            "amount": int(payment.amount * 100),
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    orphan = sdk.v1.payment_intents.create(
        params={
            "amount": 4200,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "metadata": {"company_id": str(books.company_id)},
        }
    )
    with books.sessions.begin() as s:
        s.execute(
            update(Payment)
            .where(Payment.id == payment.id)
            .values(stripe_charge_id=known.latest_charge, stripe_payment_intent_id=known.id)
        )

    gateway = StripeGateway("sk_test_reconcile", base_url=stripe_sandbox.url)
    outcome = reconcile_once(books.sessions, client, gateway, books.scope())
    rows = outcome.result["discrepancies"]
    kinds = Counter(r["kind"] for r in rows)
    assert kinds == Counter(
        amount_mismatch=1, status_mismatch=2, missing_in_app=1, missing_in_qbo=1, orphan_stripe_charge=1
    ), rows
    by_app = {r["app_id"]: r for r in rows if r["app_id"]}
    mismatch = by_app[str(edited.id)]
    assert mismatch["kind"] == "amount_mismatch" and mismatch["difference"] == "3.00"
    assert mismatch["detail"].startswith("Xero ") and "QuickBooks" not in mismatch["action"]
    assert by_app[str(voided_in_app.id)]["detail"] == "void in the app, open in Xero"
    assert by_app[str(voided_in_xero.id)]["detail"] == "voided in Xero, not in the app"
    assert by_app[str(never_pushed)]["kind"] == "missing_in_qbo"
    assert by_app[str(never_pushed)]["detail"] == "never pushed to Xero"
    [alone] = [r for r in rows if r["kind"] == "missing_in_app"]
    assert alone["qbo_amount"] == "77.70" and alone["detail"].startswith("Xero Invoice ")
    [charge] = [r for r in rows if r["kind"] == "orphan_stripe_charge"]
    assert charge["stripe_id"] == orphan.latest_charge and charge["stripe_amount"] == "42.00"
    r = outcome.result
    assert r["stripe_checked"] is True and r["totals"]["stripe"]["charges"] >= 2
    assert r["records_matched"] == r["records_total"] - 6
    text = markdown(r, company="Xero Builders")
    assert "| app | Xero | Stripe |" in text and "| xero | invoice |" in text
