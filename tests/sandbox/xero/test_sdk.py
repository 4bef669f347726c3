"""The official xero-python SDK, unchanged, against the Xero sandbox over a real socket: only the hosts
are pointed at the sandbox (AccountingApi/IdentityApi `base_url`, the token endpoint's URL)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from decimal import Decimal as D
from typing import Any

import pytest
from xero_python.accounting import (
    Account,
    AccountingApi,
    Contact,
    Contacts,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
    Payment,
)
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import AccountingBadRequestException, NotFoundException
from xero_python.identity import IdentityApi

from tests.sandbox.xero.conftest import API, Xero


class Sdk:
    """The SDK as an app uses it: an ApiClient holding the token, the Accounting and Identity APIs."""

    def __init__(self, xero: Xero, tokens: dict[str, Any]) -> None:
        self.tenant = str(tokens["tenantId"])
        self.stored = {k: v for k, v in tokens.items() if k != "tenantId"} | {"scope": ["offline_access"]}
        self.client = ApiClient(
            Configuration(oauth2_token=OAuth2Token(client_id="local-client", client_secret="local-secret")),
            pool_threads=1,
        )
        self.client.oauth2_token_getter(lambda: self.stored)
        self.client.oauth2_token_saver(self._save)
        self.accounting = AccountingApi(self.client, base_url=xero.url + API)
        self.identity = IdentityApi(self.client, base_url=xero.url)

    def _save(self, token: dict[str, Any]) -> None:
        self.stored = dict(token)


@pytest.fixture
def sdk(xero: Xero) -> Sdk:
    return Sdk(xero, xero.connect())


def _contact(sdk: Sdk, name: str) -> Any:
    return sdk.accounting.create_contacts(sdk.tenant, Contacts(contacts=[Contact(name=name)])).contacts[0]


def _invoice(sdk: Sdk, contact_id: str, kind: str, amount_types: str, *lines: tuple[str, str, str]) -> Any:
    invoice = Invoice(
        type=kind,
        contact=Contact(contact_id=contact_id),
        date=date(2026, 3, 2),
        due_date=date(2026, 4, 1),
        line_amount_types=LineAmountTypes(amount_types),
        status="AUTHORISED",
        line_items=[
            LineItem(description="Framing", quantity=Decimal(q), unit_amount=Decimal(u), account_code=a)
            for q, u, a in lines
        ],
    )
    return sdk.accounting.create_invoices(sdk.tenant, Invoices(invoices=[invoice])).invoices[0]


def test_connections_and_the_seeded_organisation(sdk: Sdk) -> None:
    connections = sdk.identity.get_connections()
    assert [c.tenant_id for c in connections] == [sdk.tenant]
    assert connections[0].tenant_type == "ORGANISATION"  # a plain string in the SDK
    codes = {a.code: a.type.value for a in sdk.accounting.get_accounts(sdk.tenant).accounts}
    assert codes["090"] == "BANK" and codes["200"] == "REVENUE"
    rates = {t.tax_type: t.effective_rate for t in sdk.accounting.get_tax_rates(sdk.tenant).tax_rates}
    assert rates["OUTPUT2"] == 15


def test_contacts_create_get_and_a_duplicate_name_refused(sdk: Sdk) -> None:
    made = _contact(sdk, "Harbour Concrete Ltd")
    got = sdk.accounting.get_contact(sdk.tenant, made.contact_id).contacts[0]
    assert got.name == "Harbour Concrete Ltd" and got.contact_status == "ACTIVE"
    with pytest.raises(AccountingBadRequestException) as refused:
        sdk.accounting.create_contacts(sdk.tenant, Contacts(contacts=[Contact(name="Harbour Concrete Ltd")]))
    assert "already assigned to another contact" in refused.value.body.decode()
    with pytest.raises(NotFoundException):
        sdk.accounting.get_contact(sdk.tenant, "00000000-0000-0000-0000-000000000000")


def test_invoices_exclusive_inclusive_and_no_tax_totals(sdk: Sdk) -> None:
    contact = _contact(sdk, "Kauri Homes").contact_id
    exclusive = _invoice(sdk, contact, "ACCREC", "Exclusive", ("3", "33.33", "200"), ("1", "0.05", "200"))
    assert (exclusive.sub_total, exclusive.total_tax, exclusive.total) == (
        D("100.04"),
        D("15.01"),
        D("115.05"),
    )
    assert exclusive.invoice_number == "INV-0001" and exclusive.amount_due == D("115.05")
    inclusive = _invoice(sdk, contact, "ACCREC", "Inclusive", ("1", "115.00", "200"))
    assert (inclusive.sub_total, inclusive.total_tax, inclusive.total) == (
        D("100.00"),
        D("15.00"),
        D("115.00"),
    )
    bill = _invoice(sdk, contact, "ACCPAY", "NoTax", ("2", "49.995", "400"))
    assert (bill.sub_total, bill.total_tax, bill.total) == (D("99.99"), D("0.00"), D("99.99"))
    assert bill.line_items[0].line_amount == D("99.99")
    again = sdk.accounting.get_invoice(sdk.tenant, exclusive.invoice_id).invoices[0]
    assert again.date == date(2026, 3, 2) and again.status == "AUTHORISED"


def test_payment_pays_the_invoice_and_an_overpayment_is_refused(sdk: Sdk) -> None:
    contact = _contact(sdk, "Totara Build").contact_id
    invoice = _invoice(sdk, contact, "ACCREC", "Exclusive", ("1", "100", "200"))

    def pay(amount: str) -> Any:
        payment = Payment(
            invoice=Invoice(invoice_id=invoice.invoice_id),
            account=Account(code="090"),
            amount=Decimal(amount),
            date=date(2026, 3, 9),
        )
        return sdk.accounting.create_payment(sdk.tenant, payment).payments[0]

    with pytest.raises(AccountingBadRequestException) as refused:
        pay("115.01")
    assert "exceeds the amount outstanding" in refused.value.body.decode()
    assert pay("15").amount == 15
    paid = pay("100")
    assert paid.status == "AUTHORISED" and paid.payment_type == "ACCRECPAYMENT"
    after = sdk.accounting.get_invoice(sdk.tenant, invoice.invoice_id).invoices[0]
    assert (after.status, after.amount_paid, after.amount_due) == ("PAID", D("115.00"), D("0.00"))


def test_contacts_page_100_at_a_time(sdk: Sdk) -> None:
    batch = Contacts(contacts=[Contact(name=f"Subcontractor {n:03d}") for n in range(150)])
    sdk.accounting.create_contacts(sdk.tenant, batch)
    first = sdk.accounting.get_contacts(sdk.tenant, page=1).contacts
    second = sdk.accounting.get_contacts(sdk.tenant, page=2).contacts
    third = sdk.accounting.get_contacts(sdk.tenant, page=3).contacts
    assert (len(first), len(second), len(third)) == (100, 51, 0)  # 150 and the seeded customer
    assert len({c.contact_id for c in first + second}) == 151


def test_expired_access_token_is_refreshed_by_the_sdk(
    sdk: Sdk, xero: Xero, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TokenApi, "refresh_token_url", f"{xero.url}/connect/token")
    first_refresh = sdk.stored["refresh_token"]
    sdk.stored["expires_at"] = 0  # the SDK believes its access token has expired: it refreshes first
    assert sdk.accounting.get_accounts(sdk.tenant).accounts
    assert sdk.stored["refresh_token"] != first_refresh


def test_a_connection_removed_through_the_sdk_is_gone(sdk: Sdk) -> None:
    connection = sdk.identity.get_connections()[0]
    sdk.identity.delete_connection(connection.id)
    assert sdk.identity.get_connections() == []
    with pytest.raises(NotFoundException):  # already removed
        sdk.identity.delete_connection(connection.id)
