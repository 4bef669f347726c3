"""The app's rows to Xero documents and back, with Xero's per-line rounding in Decimal; the documents are
checked against the models of Xero's official SDK (xero-python) and read back from the OpenAPI examples."""

from __future__ import annotations

import json
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import xero_python.accounting.models as sdk

from connectors.xero.codec import dumps, loads
from connectors.xero.mapping import (
    MappingError,
    contact_from_xero,
    contact_to_xero,
    expense_to_xero,
    invoice_from_xero,
    invoice_to_xero,
    payment_to_xero,
    project_option,
    totals_of,
)
from connectors.xero.money import line_tax, totals
from connectors.xero.settings import XeroSettings
from sierra_core.db.models import Contact, Expense, Invoice, InvoiceLineItem, Payment, Project
from tests import fixtures

FIX = fixtures.ROOT / "xero"
SETTINGS = XeroSettings(expense_accounts={"materials": "310"})
D = Decimal


def _invoice(lines: list[tuple[str, str, bool]], tax_rate: str, tax: str, **kw) -> Invoice:
    items = [
        InvoiceLineItem(
            line_number=n,
            description=f"line {n}",
            quantity=D(q),
            unit_price=D(u),
            amount=(D(q) * D(u)).quantize(D("0.01")),
            taxable=taxable,
        )
        for n, (q, u, taxable) in enumerate(lines, start=1)
    ]
    subtotal = sum((i.amount for i in items), D("0.00"))
    return Invoice(
        id=uuid.uuid4(),
        invoice_number=kw.pop("number", "INV-1001"),
        issue_date=date(2026, 3, 11),
        due_date=date(2026, 4, 10),
        status=kw.pop("status", "sent"),
        currency="USD",
        subtotal=subtotal,
        tax_rate=D(tax_rate),
        tax_amount=D(tax),
        total=subtotal + D(tax),
        lines=items,
        **kw,
    )


def _sdk_invoice(doc: dict[str, Any]) -> sdk.Invoice:
    """The document through the SDK's models: its enums and field names must be Xero's."""
    return sdk.Invoice(
        type=doc["Type"],
        status=doc["Status"],
        line_amount_types=sdk.LineAmountTypes(doc["LineAmountTypes"]),
        line_items=[
            sdk.LineItem(
                description=li["Description"],
                quantity=li["Quantity"],
                unit_amount=li["UnitAmount"],
                line_amount=li["LineAmount"],
                account_code=li["AccountCode"],
                tax_type=li["TaxType"],
                tax_amount=li["TaxAmount"],
            )
            for li in doc["LineItems"]
        ],
    )


def test_xero_rounding_matches_the_openapi_inclusive_example():
    """PUT /BankTransactions' example: a 20.00 inclusive line at 9.5 % is 1.74 tax, 18.26 before it."""
    example = json.loads((FIX / "bank_transactions_put_errors.json").read_text(), parse_float=D)
    doc = example["BankTransactions"][0]
    assert line_tax(D("20.00"), D("9.5"), "Inclusive") == doc["LineItems"][0]["TaxAmount"]
    assert totals_of(doc["LineItems"], "Inclusive", D("9.5")) == {
        "SubTotal": doc["SubTotal"],
        "TotalTax": doc["TotalTax"],
        "Total": doc["Total"],
    }
    assert totals([(D("10.01"), D(15))] * 3, "Exclusive").total_tax == D("4.50")  # 1.5015 a line → 1.50
    assert totals([(D("40.00"), D(15))], "NoTax").total == D("40.00")
    with pytest.raises(TypeError, match="never float"):
        line_tax(0.1, D(15), "Exclusive")  # type: ignore[arg-type]


def test_an_invoice_goes_exclusive_with_the_apps_tax_reached_per_line():
    # 8.25 % on three 1.00 lines: 0.0825 rounds to 0.08 a line (0.24), the app says 0.25 (rounded once).
    invoice = _invoice(
        [("1", "1.00", True), ("1", "1.00", True), ("1", "1.00", True), ("2", "3.3333", False)],
        "0.0825",
        "0.25",
    )
    project = Project(name="Kitchen remodel", code="P-17")
    doc = invoice_to_xero(invoice, "contact-1", SETTINGS, project=project)
    assert doc["LineAmountTypes"] == "Exclusive" and doc["Status"] == "AUTHORISED"
    assert [li["TaxAmount"] for li in doc["LineItems"]] == [D("0.08"), D("0.08"), D("0.09"), D("0.00")]
    assert [li["TaxType"] for li in doc["LineItems"]] == ["OUTPUT", "OUTPUT", "OUTPUT", "NONE"]
    assert doc["LineItems"][3]["LineAmount"] == D("6.67")
    assert doc["LineItems"][0]["Tracking"] == [{"Name": "Project", "Option": "P-17 Kitchen remodel"}]
    wire = dumps(doc)
    assert b'"UnitAmount":3.3333' in wire and b'"TaxAmount":0.09' in wire and b'"Date":"2026-03-11"' in wire
    back = loads(wire)
    assert sum(li["LineAmount"] + li["TaxAmount"] for li in back["LineItems"]) == invoice.total
    assert _sdk_invoice(doc).line_amount_types == sdk.LineAmountTypes.EXCLUSIVE


def test_a_bill_is_accpay_and_an_untaxed_invoice_is_notax():
    bill = invoice_to_xero(
        _invoice([("2", "12.50", False)], "0", "0.00", status="draft"), "v-1", SETTINGS, invoice_type="ACCPAY"
    )
    assert (bill["Type"], bill["LineAmountTypes"], bill["Status"]) == ("ACCPAY", "NoTax", "DRAFT")
    assert bill["Reference"] == "INV-1001" and "InvoiceNumber" not in bill
    assert _sdk_invoice(bill).type == "ACCPAY"


@pytest.mark.parametrize(
    ("invoice", "message"),
    [
        (
            _invoice([("1", "10.00", True)], "0.10", "2.00"),
            r"tax is 2.00, but 10.00% on each taxable line gives 1.00",
        ),
        (_invoice([], "0", "0.00"), "has no lines"),
        (_invoice([("1", "1.00", False)], "0", "0.00", status="void"), "void it in Xero"),
    ],
)
def test_what_xero_would_compute_differently_is_refused_with_the_figures(invoice, message):
    with pytest.raises(MappingError, match=message):
        invoice_to_xero(invoice, "contact-1", SETTINGS)


def test_a_line_whose_amount_is_not_quantity_times_price_is_refused():
    invoice = _invoice([("3", "0.3333", False)], "0", "0.00")
    assert invoice_to_xero(invoice, "c", SETTINGS)["LineItems"][0]["LineAmount"] == D("1.00")  # 0.9999
    invoice.lines[0].amount = D("0.99")
    with pytest.raises(MappingError, match=r"is 1.00, but the line says 0.99"):
        invoice_to_xero(invoice, "c", SETTINGS)


def test_xero_invoices_read_back_with_their_status_and_exact_money():
    listed = loads((FIX / "invoices_get.json").read_bytes())["Invoices"]
    voided, paid, authorised = (invoice_from_xero(doc) for doc in listed)
    assert (voided["status"], paid["status"], authorised["status"]) == ("void", "paid", "sent")
    assert voided["issue_date"] == date(2018, 10, 20) and voided["due_date"] == date(2018, 12, 30)
    assert paid["total"] == D("46.00") and isinstance(paid["balance"], Decimal)
    created = loads((FIX / "invoices_post.json").read_bytes())["Invoices"][0]
    read = invoice_from_xero(created)
    assert read["lines"][0]["amount"] == D("40.00") and read["invoice_number"] == "INV-0007"


def test_contacts_go_both_ways():
    contact = Contact(
        display_name="Amy's Bird Sanctuary",
        given_name="Amy",
        email="amy@example.com",
        phone="555-0100",
        bill_line1="4581 Finch St.",
        bill_city="Bayshore",
        currency="USD",
        is_active=True,
    )
    doc = contact_to_xero(contact, xero_id="x-1")
    assert doc["ContactID"] == "x-1" and doc["Phones"] == [
        {"PhoneType": "DEFAULT", "PhoneNumber": "555-0100"}
    ]
    assert doc["Addresses"][0] == {
        "AddressType": "POBOX",
        "AddressLine1": "4581 Finch St.",
        "City": "Bayshore",
    }
    assert sdk.Contact(name=doc["Name"], contact_status=doc["ContactStatus"]).contact_status == "ACTIVE"
    listed = loads((FIX / "contacts_get.json").read_bytes())["Contacts"]
    read = contact_from_xero(listed[0])
    assert read["display_name"] == listed[0]["Name"] and read["is_active"] is True


def test_payments_and_expenses():
    payment = Payment(
        amount=D("46.00"), payment_date=date(2026, 3, 12), method="check", reference_number="CHK 1042"
    )
    doc = payment_to_xero(payment, "inv-1", SETTINGS)
    assert doc == {
        "Invoice": {"InvoiceID": "inv-1"},
        "Account": {"Code": "090"},
        "Date": date(2026, 3, 12),
        "Amount": D("46.00"),
        "Reference": "CHK 1042",
    }
    expense = Expense(
        vendor_name="Home Depot",
        category="materials",
        payment_type="credit_card",
        amount=D("123.45"),
        currency="USD",
        expense_date=date(2026, 3, 9),
    )
    spend = expense_to_xero(expense, SETTINGS, project=Project(name="Deck", code=None))
    assert spend["Type"] == "SPEND" and spend["Contact"] == {"Name": "Home Depot"}
    assert spend["LineItems"][0]["AccountCode"] == "310" and spend["LineItems"][0]["LineAmount"] == D(
        "123.45"
    )
    assert spend["LineItems"][0]["Tracking"] == [{"Name": "Project", "Option": "Deck"}]
    assert (
        sdk.BankTransaction(
            type=spend["Type"], line_items=[], contact=sdk.Contact(), bank_account=sdk.Account(code="090")
        ).type
        == "SPEND"
    )
    assert project_option(Project(name="x" * 150, code="P-1")) == ("P-1 " + "x" * 150)[:100]
