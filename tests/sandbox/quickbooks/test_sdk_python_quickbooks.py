"""The official community SDKs against the QBO sandbox: python-quickbooks over an intuitlib AuthClient.

The AuthClient reads the sandbox's discovery document (intuitlib's "sandbox" discovery URL pointed at it)
and refreshes a token there; `QuickBooks.sandbox_api_url_v3` points the SDK at the sandbox. Nothing else is
changed: these are the requests the SDK sends to Intuit (`SELECT *, Sku FROM Item` on every Item.all,
documents full of `""` and zero defaults, voids by `operation=update&include=void`, include=invoiceLink).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import intuitlib.config
import pytest
from intuitlib.client import AuthClient
from quickbooks.client import QuickBooks
from quickbooks.exceptions import QuickbooksException, UnsupportedException, ValidationException
from quickbooks.objects import (
    Account,
    Customer,
    Invoice,
    Item,
    Payment,
    PaymentMethod,
    RefundReceipt,
    SalesReceipt,
)
from quickbooks.objects.base import EmailAddress
from quickbooks.objects.detailline import DetailLine, SalesItemLine, SalesItemLineDetail

from tests.sandbox.quickbooks.conftest import Sandbox, make_sandbox

CLIENT_ID, CLIENT_SECRET = "local-client", "local-secret"


@dataclass
class Sdk:
    qb: QuickBooks
    sandbox: Sandbox


@pytest.fixture(scope="module")
def sdk() -> Iterator[Sdk]:
    server, sandbox = make_sandbox()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the sandbox is plain http on loopback
            # intuitlib.utils reads this same dict: the "sandbox" environment now discovers our endpoints.
            patch.setitem(
                intuitlib.config.DISCOVERY_URL, "sandbox", f"{sandbox.url}/.well-known/openid_configuration"
            )
            patch.setattr(QuickBooks, "sandbox_api_url_v3", f"{sandbox.url}/v3")
            realm_id, tokens = sandbox.realm()
            auth = AuthClient(CLIENT_ID, CLIENT_SECRET, "http://localhost:8000/callback", "sandbox")
            qb = QuickBooks(
                auth_client=auth,
                refresh_token=tokens["refresh_token"],
                company_id=realm_id,
                minorversion=75,
            )
            assert auth.token_endpoint.startswith(sandbox.url) and auth.access_token
            yield Sdk(qb, sandbox)
    finally:
        server.stop()


def service_line(amount: float, item: Item) -> SalesItemLine:
    line = SalesItemLine()
    line.Amount = amount
    line.Description = "site visit"
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = item.to_ref()
    return line


def new_invoice(qb: QuickBooks, amount: float = 100, **attrs: Any) -> Invoice:
    invoice = Invoice()
    invoice.CustomerRef = Customer.all(max_results=1, qb=qb)[0].to_ref()
    invoice.Line.append(service_line(amount, Item.all(max_results=1, qb=qb)[0]))
    for name, value in attrs.items():
        setattr(invoice, name, value)
    return invoice.save(qb=qb)


def test_item_all_selects_star_and_sku(sdk: Sdk) -> None:
    item = Item()
    item.Name, item.Type, item.Sku = "Anchor bolts", "NonInventory", "ANC-12"
    item.IncomeAccountRef = Account.where("AccountType = 'Income'", max_results=1, qb=sdk.qb)[0].to_ref()
    item.save(qb=sdk.qb)
    everything = Item.all(max_results=100, qb=sdk.qb)  # SELECT *, Sku FROM Item MAXRESULTS 100
    found = [i for i in everything if i.Id == item.Id]
    assert len(found) == 1 and found[0].Sku == "ANC-12" and found[0].IncomeAccountRef.value
    assert len(everything) > 1


def test_where_with_not_equal_count_and_choose(sdk: Sdk) -> None:
    assets = Account.where("Classification = 'Asset'", qb=sdk.qb)
    first = assets[0].FullyQualifiedName
    others = Account.where(f"Classification = 'Asset' AND FullyQualifiedName != '{first}'", qb=sdk.qb)
    assert len(others) == len(assets) - 1 and first not in {a.FullyQualifiedName for a in others}
    assert Account.count("Classification = 'Asset'", qb=sdk.qb) == len(assets)
    chosen = Account.choose([a.Id for a in assets[:2]], qb=sdk.qb)  # Id in ('..', '..')
    assert sorted(a.Id for a in chosen) == sorted(a.Id for a in assets[:2])
    ordered = Account.where("Classification = 'Asset'", order_by="Name DESC", qb=sdk.qb)  # ORDERBY
    assert [a.Name for a in ordered] == sorted((a.Name for a in assets), key=str.casefold, reverse=True)


def test_invoice_with_sdk_defaults_and_its_void(sdk: Sdk) -> None:
    invoice = new_invoice(sdk.qb, 100)
    read = Invoice.get(invoice.Id, qb=sdk.qb)
    assert read.TotalAmt == 100 and read.Line[0].Amount == 100 and read.Line[0].Description == "site visit"
    assert read.TxnDate and read.DocNumber
    invoice.void(qb=sdk.qb)  # operation=void
    voided = Invoice.get(invoice.Id, qb=sdk.qb)
    assert voided.TotalAmt == 0 and voided.Balance == 0 and voided.PrivateNote == "Voided"


def test_payment_void_restores_the_invoice(sdk: Sdk) -> None:
    invoice = new_invoice(sdk.qb, 100)
    payment = Payment()
    payment.TotalAmt = 100
    payment.CustomerRef = invoice.CustomerRef
    payment.PaymentMethodRef = PaymentMethod.all(max_results=1, qb=sdk.qb)[0].to_ref()
    payment.PrivateNote = "deposit"
    applied = DetailLine()
    applied.Amount = 100
    applied.LinkedTxn = [invoice.to_linked_txn()]
    payment.Line = [applied]
    payment = payment.save(qb=sdk.qb)
    assert Invoice.get(invoice.Id, qb=sdk.qb).Balance == 0
    payment.void(qb=sdk.qb)  # operation=update&include=void, {Id, SyncToken, sparse: true}
    voided = Payment.get(payment.Id, qb=sdk.qb)
    assert voided.TotalAmt == 0 and voided.PrivateNote == "Voided - deposit" and voided.SyncToken == "1"
    assert Invoice.get(invoice.Id, qb=sdk.qb).Balance == 100


def test_sales_receipt_void(sdk: Sdk) -> None:
    receipt = SalesReceipt()
    receipt.CustomerRef = Customer.all(max_results=1, qb=sdk.qb)[0].to_ref()
    line = service_line(70, Item.all(max_results=1, qb=sdk.qb)[0])
    line.SalesItemLineDetail.Qty, line.SalesItemLineDetail.UnitPrice = 2, 35
    receipt.Line = [line]
    receipt = receipt.save(qb=sdk.qb)
    assert SalesReceipt.get(receipt.Id, qb=sdk.qb).TotalAmt == 70
    receipt.void(qb=sdk.qb)
    voided = SalesReceipt.get(receipt.Id, qb=sdk.qb)
    assert voided.TotalAmt == 0 and "Voided" in voided.PrivateNote


def test_refund_receipt_without_a_customer(sdk: Sdk) -> None:
    refund = RefundReceipt()
    refund.DocNumber, refund.PaymentType, refund.PrivateNote = "RR-7", "Check", "overbilled"
    refund.Line.append(service_line(200, Item.all(max_results=1, qb=sdk.qb)[0]))
    refund.DepositToAccountRef = Account.where("AccountType = 'Bank'", max_results=1, qb=sdk.qb)[0].to_ref()
    refund = refund.save(qb=sdk.qb)
    read = RefundReceipt.get(refund.Id, qb=sdk.qb)
    assert read.DocNumber == "RR-7" and read.Line[0].Amount == 200 and read.CustomerRef is None


def test_invoice_link_on_request(sdk: Sdk) -> None:
    email = EmailAddress()
    email.Address = "owner@example.com"
    invoice = new_invoice(
        sdk.qb, 250, AllowOnlineCreditCardPayment=True, AllowOnlineACHPayment=True, BillEmail=email
    )
    assert not Invoice.get(invoice.Id, qb=sdk.qb).InvoiceLink
    linked = Invoice.get(invoice.Id, qb=sdk.qb, params={"include": "invoiceLink"})
    assert linked.InvoiceLink.startswith("https://")


def test_strict_where_qbo_is_strict(sdk: Sdk) -> None:
    line = service_line(100, Item.all(max_results=1, qb=sdk.qb)[0])
    line.SalesItemLineDetail.Qty, line.SalesItemLineDetail.UnitPrice = 3, 10  # 30 != 100
    invoice = Invoice()
    invoice.CustomerRef = Customer.all(max_results=1, qb=sdk.qb)[0].to_ref()
    invoice.Line.append(line)
    with pytest.raises(QuickbooksException) as business:
        invoice.save(qb=sdk.qb)
    assert business.value.error_code == 6070
    with pytest.raises(ValidationException) as parse:
        Account.where("Name = 'a' OR Name = 'b'", qb=sdk.qb)
    assert parse.value.error_code == 4000
    # What the sandbox does not serve (reports) answers QBO's "Unsupported Operation" for an unknown resource.
    with pytest.raises(UnsupportedException) as unsupported:
        sdk.qb.get_report("ProfitAndLoss")
    assert unsupported.value.error_code == 500
    assert unsupported.value.detail == "Operation reports is not supported."


def test_the_sdk_session_used_the_sandbox_token(sdk: Sdk) -> None:
    stats = httpx.get(f"{sdk.sandbox.url}/__sandbox/stats", timeout=10).json()
    assert stats["oauth"]["token"] >= 1 and stats["requests_total"] > 0 and stats["auth_failures"] == 0
