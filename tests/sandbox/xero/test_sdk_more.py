"""The official xero-python SDK against the sandbox for bank transactions (SPEND), tracking categories and
their options, and attachments; the connector client's PDF attachment and tracking option calls."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from xero_python.accounting import (
    Account,
    BankTransaction,
    BankTransactions,
    Contact,
    LineAmountTypes,
    LineItem,
    TrackingCategory,
    TrackingOption,
)
from xero_python.exceptions import AccountingBadRequestException

from connectors.xero.client import XeroClient
from tests.sandbox.xero.conftest import API, Xero
from tests.sandbox.xero.test_sdk import Sdk, _contact, _invoice


@pytest.fixture
def sdk(xero: Xero) -> Sdk:
    return Sdk(xero, xero.connect())


def test_spend_money_with_inclusive_tax(sdk: Sdk) -> None:
    spend = BankTransaction(
        type="SPEND",
        contact=Contact(name="Placemakers"),
        bank_account=Account(code="090"),
        date=date(2026, 3, 4),
        line_amount_types=LineAmountTypes("Inclusive"),
        line_items=[
            LineItem(description="Fixings", quantity=D(1), unit_amount=D("230.00"), account_code="429")
        ],
    )
    made = sdk.accounting.create_bank_transactions(sdk.tenant, BankTransactions(bank_transactions=[spend]))
    [saved] = made.bank_transactions
    assert (saved.sub_total, saved.total_tax, saved.total) == (D("200.00"), D("30.00"), D("230.00"))
    assert saved.status == "AUTHORISED" and saved.bank_account.code == "090"
    listed = sdk.accounting.get_bank_transactions(sdk.tenant, page=1).bank_transactions
    assert [t.bank_transaction_id for t in listed] == [saved.bank_transaction_id]
    to_sales = BankTransaction(
        type="SPEND",
        contact=Contact(name="Placemakers"),
        bank_account=Account(code="200"),
        line_items=[LineItem(description="x", quantity=D(1), unit_amount=D(1), account_code="429")],
    )
    with pytest.raises(AccountingBadRequestException) as refused:
        sdk.accounting.create_bank_transactions(sdk.tenant, BankTransactions(bank_transactions=[to_sales]))
    assert "A valid BankAccount must be specified" in refused.value.body.decode()


def test_tracking_categories_and_options(sdk: Sdk) -> None:
    made = sdk.accounting.create_tracking_category(sdk.tenant, TrackingCategory(name="Project"))
    category_id = made.tracking_categories[0].tracking_category_id
    option = sdk.accounting.create_tracking_options(sdk.tenant, category_id, TrackingOption(name="Lot 12"))
    assert option.options[0].name == "Lot 12"
    with pytest.raises(AccountingBadRequestException):
        sdk.accounting.create_tracking_options(sdk.tenant, category_id, TrackingOption(name="lot 12"))
    listed = sdk.accounting.get_tracking_categories(sdk.tenant).tracking_categories
    assert [[o.name for o in c.options] for c in listed] == [["Lot 12"]]
    sdk.accounting.create_tracking_category(sdk.tenant, TrackingCategory(name="Region"))
    with pytest.raises(AccountingBadRequestException) as third:
        sdk.accounting.create_tracking_category(sdk.tenant, TrackingCategory(name="Crew"))
    assert "only have 2 active tracking categories" in third.value.body.decode()


def test_attachments_from_the_sdk_and_the_connector(sdk: Sdk, xero: Xero) -> None:
    contact = _contact(sdk, "Matai Builders").contact_id
    invoice = _invoice(sdk, contact, "ACCREC", "Exclusive", ("1", "10", "200"))
    pdf = b"%PDF-1.7\n% a tiny invoice\n"
    put = sdk.accounting.create_invoice_attachment_by_file_name(
        sdk.tenant, invoice.invoice_id, "INV-0001.pdf", pdf, include_online=True
    )
    assert put.attachments[0].content_length == len(pdf) and put.attachments[0].include_online is True
    tokens = {"access_token": sdk.stored["access_token"]}
    with XeroClient(xero.url + API, sdk.tenant, _Bearer(tokens["access_token"])) as client:
        attached = client.attach_invoice_pdf(invoice.invoice_id, "copy/2.pdf", pdf)
        assert attached["FileName"] == "copy_2.pdf" and attached["MimeType"] == "application/pdf"
        category = client.call("PUT", "TrackingCategories", body={"Name": "Job"}, context="category")
        category_id = category["TrackingCategories"][0]["TrackingCategoryID"]
        assert client.add_tracking_option(category_id, "Lot 7")["Name"] == "Lot 7"
    listed = sdk.accounting.get_invoice_attachments(sdk.tenant, invoice.invoice_id).attachments
    assert sorted(a.file_name for a in listed) == ["INV-0001.pdf", "copy_2.pdf"]
    assert sdk.accounting.get_invoice(sdk.tenant, invoice.invoice_id).invoices[0].has_attachments is True


class _Bearer:
    """A token source that hands out one access token (the connector client's TokenSource protocol)."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.refreshes = 0

    def access_token(self) -> str:
        return self.token

    def refresh_after_401(self, rejected_token: str) -> str:
        raise AssertionError("the sandbox refused a valid access token")
