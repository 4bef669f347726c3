"""Mapped bodies against the local QBO sandbox (its sample company): QuickBooks accepts them and its totals
equal the app's to the cent; pulling what it answers gives the app's values back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.quickbooks.mapping import (
    ExpenseRefs,
    InvoiceRefs,
    PaymentRefs,
    contact_to_customer,
    customer_to_contact_values,
    dumps_qbo,
    expense_to_purchase,
    invoice_to_qbo,
    invoice_update,
    payment_to_qbo,
    purchase_to_values,
    qbo_invoice_to_values,
    qbo_payment_to_values,
)
from connectors.quickbooks.settings import QuickBooksSettings, parse_settings
from sandbox.common.server import LocalServer
from sandbox.quickbooks import Clock, SandboxOptions, create_app
from sierra_core.db.models import Contact, Expense, Invoice, InvoiceLineItem, Payment

D = Decimal
SETTINGS = parse_settings(
    {
        "items": {
            "FRAMING-LABOR": {"value": "1", "name": "Services"},
            "CONCRETE": {"value": "3", "name": "Concrete"},
        }
    }
)


class Api:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def post(self, entity: str, body: dict[str, Any], **params: str) -> dict[str, Any]:
        response = self.client.post(
            f"/{entity.lower()}",
            params={"minorversion": "75", **params},
            content=dumps_qbo(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json(parse_float=Decimal)
        assert "Fault" not in data, data
        obj: dict[str, Any] = data[entity]
        return obj

    def get(self, entity: str, qbo_id: str) -> dict[str, Any]:
        response = self.client.get(f"/{entity.lower()}/{qbo_id}", params={"minorversion": "75"})
        assert response.status_code == 200, response.text
        obj: dict[str, Any] = response.json(parse_float=Decimal)[entity]
        return obj


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    app = create_app(
        SandboxOptions(clock=Clock(start=datetime(2026, 10, 1, 17, tzinfo=UTC), frozen=True), seed=7)
    )
    server = LocalServer(app).start()
    try:
        admin = httpx.post(f"{server.url}/__sandbox/realms", json={"tokens": True}, timeout=10)
        assert admin.status_code < 300, admin.text
        out = admin.json()
        with httpx.Client(
            base_url=f"{server.url}/v3/company/{out['realm_id']}",
            headers={
                "Authorization": f"Bearer {out['tokens']['access_token']}",
                "Accept": "application/json",
            },
            timeout=10,
        ) as client:
            yield Api(client)
    finally:
        server.stop()


def kitchen_invoice(number: str, memo: str | None = None) -> Invoice:
    """A seed-like invoice: non-taxable labor, taxable concrete at 8.75 %, a discount."""
    lines = [
        InvoiceLineItem(
            line_number=1,
            description="Framing labor",
            quantity=D("12.5000"),
            unit_price=D("85.0000"),
            amount=D("1062.50"),
            item_code="FRAMING-LABOR",
            taxable=False,
        ),
        InvoiceLineItem(
            line_number=2,
            description="Concrete, 3000 psi, placed",
            quantity=D("3.2500"),
            unit_price=D("187.3300"),
            amount=D("608.82"),
            item_code="CONCRETE",
            taxable=True,
        ),
        InvoiceLineItem(
            line_number=3,
            description="Discount",
            quantity=D(1),
            unit_price=D("-50"),
            amount=D("-50.00"),
            item_code=None,
            taxable=False,
        ),
    ]
    tax = (D("608.82") * D("0.0875")).quantize(D("0.01"))  # 53.27
    return Invoice(
        invoice_number=number,
        issue_date=date(2026, 10, 1),
        due_date=date(2026, 10, 31),
        terms="Net 30",
        status="sent",
        currency="USD",
        subtotal=D("1621.32"),
        tax_rate=D("0.0875"),
        tax_amount=tax,
        total=D("1621.32") + tax,
        balance=D("1621.32") + tax,
        memo=memo,
        lines=lines,
    )


@pytest.fixture(scope="module")
def customer_id(api: Api) -> str:
    contact = Contact(
        display_name="Peña's Café & Crêperie",
        given_name="José",
        family_name="O'Brien",
        email="jose@example.com",
        bill_line1="12 Rue de la Paix",
        bill_city="Boise",
        bill_region="ID",
        bill_postal_code="83702",
        bill_country="USA",
        currency="USD",
        is_active=True,
    )
    created = api.post("Customer", contact_to_customer(contact))
    pulled = customer_to_contact_values(created)
    assert (pulled["display_name"], pulled["family_name"], pulled["bill_line1"]) == (
        "Peña's Café & Crêperie",
        "O'Brien",
        "12 Rue de la Paix",
    )
    return str(created["Id"])


def test_invoice_totals_equal_the_app_to_the_cent(api: Api, customer_id: str):
    app = kitchen_invoice("SB-1001", memo="Thank you, José!")
    created = api.post("Invoice", invoice_to_qbo(app, InvoiceRefs(customer_id), SETTINGS))
    assert D(created["TotalAmt"]) == app.total == D("1674.59")
    values = qbo_invoice_to_values(created, SETTINGS, current=app)
    lines = values.pop("lines")
    for column in (
        "invoice_number",
        "issue_date",
        "due_date",
        "terms",
        "memo",
        "subtotal",
        "tax_amount",
        "total",
        "balance",
        "status",
    ):
        assert values[column] == getattr(app, column), column
    assert [
        (li["description"], li["quantity"], li["unit_price"], li["amount"], li["item_code"], li["taxable"])
        for li in lines
    ] == [
        (li.description, li.quantity, li.unit_price, li.amount, li.item_code, li.taxable) for li in app.lines
    ]

    # an unchanged re-push is a no-op; a memo change touches only the memo and keeps the line Ids
    assert invoice_update(
        app, InvoiceRefs(customer_id), SETTINGS, qbo_id=created["Id"], sync_token="0", current=created
    ) == {
        "Id": created["Id"],
        "SyncToken": "0",
        "sparse": True,
    }
    app.memo = "Thanks again"
    update = invoice_update(
        app, InvoiceRefs(customer_id), SETTINGS, qbo_id=created["Id"], sync_token="0", current=created
    )
    updated = api.post("Invoice", update)
    assert updated["SyncToken"] == "1" and updated["CustomerMemo"] == {"value": "Thanks again"}
    assert [x.get("Id") for x in updated["Line"]] == [x.get("Id") for x in created["Line"]]

    # a payment entered against it shows as partially paid when pulled
    payment = Payment(
        amount=D("500.00"),
        payment_date=date(2026, 10, 5),
        method="check",
        status="succeeded",
        reference_number="4512",
    )
    paid = api.post("Payment", payment_to_qbo(payment, PaymentRefs(customer_id, created["Id"]), SETTINGS))
    assert qbo_payment_to_values(paid, SETTINGS)["amount"] == D("500.00")
    assert qbo_payment_to_values(paid, SETTINGS)["method"] == "check"
    after = qbo_invoice_to_values(api.get("Invoice", created["Id"]), SETTINGS, current=app)
    assert (after["status"], after["balance"]) == ("partially_paid", D("1174.59"))


def test_quickbooks_computed_tax_with_a_mapped_tax_code(api: Api, customer_id: str):
    settings = SETTINGS.model_copy(
        update={"tax": parse_settings({"tax": {"sales_tax_code": {"value": "2"}}}).tax}
    )
    created = api.post(
        "Invoice", invoice_to_qbo(kitchen_invoice("SB-1002"), InvoiceRefs(customer_id), settings)
    )
    values = qbo_invoice_to_values(created, settings)
    assert (values["tax_amount"], values["tax_rate"]) == (D("48.71"), D("0.08"))  # California 8 % of 608.82
    assert values["total"] == values["subtotal"] + values["tax_amount"] == D("1670.03")


def test_voided_invoice_pulls_as_void(api: Api, customer_id: str):
    created = api.post(
        "Invoice", invoice_to_qbo(kitchen_invoice("SB-1003"), InvoiceRefs(customer_id), SETTINGS)
    )
    voided = api.post("Invoice", {"Id": created["Id"], "SyncToken": created["SyncToken"]}, operation="void")
    values = qbo_invoice_to_values(voided, SETTINGS)
    assert (values["status"], values["balance"]) == ("void", D("0.00"))
    assert values["voided_at"] is not None and "total" not in values


def test_expense_round_trip(api: Api):
    app = Expense(
        vendor_name="Bob's Burger Joint",
        category="materials",
        payment_type="credit_card",
        amount=D("842.17"),
        currency="USD",
        expense_date=date(2026, 10, 3),
        description="Lumber package",
        reference_number="R771234",
    )
    created = api.post(
        "Purchase", expense_to_purchase(app, ExpenseRefs("56", "Bob's Burger Joint"), QuickBooksSettings())
    )
    values = purchase_to_values(created, current=app)
    assert values == {
        "expense_date": date(2026, 10, 3),
        "reference_number": "R771234",
        "vendor_name": "Bob's Burger Joint",
        "category": "materials",
        "payment_type": "credit_card",
        "description": "Lumber package",
        "currency": "USD",
        "amount": D("842.17"),
    }
