"""The official xero-python SDK reads the sandbox's Journals (`get_journals`): what posts writes one
journal (an invoice authorised or voided, a payment), drafts and contacts none; `offset` pages 100 at a time
in JournalNumber order, `paymentsOnly` keeps payment journals, `If-Modified-Since` those created since."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from xero_python.accounting import Account, Contact, Invoice, Invoices, LineItem, Payment

from tests.sandbox.xero.conftest import Xero
from tests.sandbox.xero.test_sdk import Sdk, _contact, _invoice


@pytest.fixture
def sdk(xero: Xero) -> Sdk:
    return Sdk(xero, xero.connect())


def _journals(sdk: Sdk, **params: Any) -> list[Any]:
    return list(sdk.accounting.get_journals(sdk.tenant, **params).journals or [])


def test_posted_changes_write_journals_drafts_and_contacts_none(sdk: Sdk, xero: Xero) -> None:
    contact = _contact(sdk, "Kauri Joinery").contact_id
    draft = Invoice(
        type="ACCREC",
        contact=Contact(contact_id=contact),
        date=date(2026, 3, 2),
        status="DRAFT",
        line_items=[
            LineItem(description="Doors", quantity=Decimal(1), unit_amount=Decimal(50), account_code="200")
        ],
    )
    sdk.accounting.create_invoices(sdk.tenant, Invoices(invoices=[draft]))
    assert _journals(sdk) == []

    invoice = _invoice(sdk, contact, "ACCREC", "Exclusive", ("1", "100", "200"))
    payment = Payment(
        invoice=Invoice(invoice_id=invoice.invoice_id),
        account=Account(code="090"),
        amount=Decimal(15),
        date=date(2026, 3, 9),
    )
    paid = sdk.accounting.create_payment(sdk.tenant, payment).payments[0]
    other = _invoice(sdk, contact, "ACCREC", "NoTax", ("2", "40", "200"))
    with xero.api({"access_token": sdk.stored["access_token"], "tenantId": sdk.tenant}) as api:
        voided = api.post(
            f"/Invoices/{other.invoice_id}", json={"InvoiceID": str(other.invoice_id), "Status": "VOIDED"}
        )
        assert voided.status_code == 200, voided.text

    journals = _journals(sdk)
    assert [(j.journal_number, j.source_type, str(j.source_id)) for j in journals] == [
        (1, "ACCREC", str(invoice.invoice_id)),
        (2, "ACCRECPAYMENT", str(paid.payment_id)),
        (3, "ACCREC", str(other.invoice_id)),
        (4, "ACCREC", str(other.invoice_id)),  # the void: its reversal
    ]
    assert sum(line.net_amount for line in journals[0].journal_lines) == 0  # debits equal credits
    assert journals[0].created_date_utc is not None and journals[0].journal_id
    assert [j.journal_number for j in _journals(sdk, offset=2)] == [3, 4]
    assert [j.source_type for j in _journals(sdk, payments_only=True)] == ["ACCRECPAYMENT"]


def test_offset_pages_100_at_a_time_and_if_modified_since(sdk: Sdk, xero: Xero) -> None:
    contact = _contact(sdk, "Rimu Roofing").contact_id
    batch = [
        Invoice(
            type="ACCREC",
            contact=Contact(contact_id=contact),
            date=date(2026, 3, 2),
            status="AUTHORISED",
            line_items=[
                LineItem(
                    description="Roof", quantity=Decimal(1), unit_amount=Decimal(n + 1), account_code="200"
                )
            ],
        )
        for n in range(150)
    ]
    sdk.accounting.create_invoices(sdk.tenant, Invoices(invoices=batch))
    first = _journals(sdk, offset=0)
    second = _journals(sdk, offset=first[-1].journal_number)
    assert (len(first), len(second)) == (100, 50)
    assert [j.journal_number for j in first + second] == list(range(1, 151))
    assert _journals(sdk, offset=150) == []

    xero.clock.advance(60)
    since = xero.clock.now()
    late = _invoice(sdk, contact, "ACCREC", "NoTax", ("1", "9", "200"))
    recent = _journals(sdk, if_modified_since=since)
    assert [(j.journal_number, str(j.source_id)) for j in recent] == [(151, str(late.invoice_id))]


def test_the_sdk_reads_the_organisation(sdk: Sdk) -> None:
    """GET /Organisation (the health check's probe) as the SDK reads it: one organisation, its name and
    the tenant's id."""
    [org] = sdk.accounting.get_organisations(sdk.tenant).organisations
    assert org.name == "Demo Company (NZ)" and str(org.organisation_id) == sdk.tenant
    assert (org.organisation_status, org.base_currency.value, org.country_code.value) == (
        "ACTIVE",
        "NZD",
        "NZ",
    )
    assert (org.financial_year_end_day, org.financial_year_end_month) == (31, 3)
