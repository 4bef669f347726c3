"""Bills, bill payments, vendor credits and purchase orders over raw HTTP: totals, balances, links, faults,
webhooks, batch and CDC."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox.common.server import LocalServer
from tests.sandbox.quickbooks.conftest import Receiver, Sandbox

Client = tuple[str, httpx.Client]


def code_of(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    return str(response.json()["Fault"]["Error"][0]["code"])


def expense(account: str, amount: Any) -> dict[str, Any]:
    return {
        "DetailType": "AccountBasedExpenseLineDetail",
        "Amount": amount,
        "AccountBasedExpenseLineDetail": {"AccountRef": {"value": account}},
    }


def bill_body(vendor: str = "56", *amounts: Any, **extra: Any) -> dict[str, Any]:
    lines = [expense("7", a) for a in amounts or (200,)]
    return {"VendorRef": {"value": vendor}, "TxnDate": "2025-06-01", "Line": lines, **extra}


def pay(
    api: httpx.Client, bill: dict[str, Any], amount: Any, total: Any = None, **extra: Any
) -> httpx.Response:
    body = {
        "VendorRef": bill["VendorRef"],
        "PayType": "Check",
        "TotalAmt": total if total is not None else amount,
        "CheckPayment": {"BankAccountRef": {"value": "35"}},
        "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}],
        **extra,
    }
    return api.post("/billpayment", json=body)


@pytest.fixture
def books(qbo: Sandbox) -> Iterator[Client]:
    """A company with the sample lists (vendors, accounts, items) and none of the sample's transactions."""
    realm_id, tokens = qbo.realm(seed="lists")
    with qbo.api(realm_id, tokens["access_token"]) as api:
        yield realm_id, api


def test_bill_defaults_totals_and_due_date(books: Client) -> None:
    _, api = books
    created = api.post("/bill", json=bill_body("56", 150, "49.99", SalesTermRef={"value": "3"}))
    assert created.status_code == 200, created.text
    bill = created.json()["Bill"]
    assert bill["TotalAmt"] == 199.99 and bill["Balance"] == 199.99 and bill["SyncToken"] == "0"
    assert bill["APAccountRef"] == {"value": "33", "name": "Accounts Payable (A/P)"}
    assert bill["VendorRef"] == {"value": "56", "name": "Bob's Burger Joint"}
    assert bill["DueDate"] == "2025-07-01" and bill["SalesTermRef"] == {"value": "3"}  # Net 30
    detail = bill["Line"][0]["AccountBasedExpenseLineDetail"]
    assert detail["AccountRef"] == {"value": "7", "name": "Advertising"}
    assert detail["BillableStatus"] == "NotBillable" and detail["TaxCodeRef"] == {"value": "NON"}
    assert [line["Id"] for line in bill["Line"]] == ["1", "2"]
    assert '"TotalAmt":199.99' in created.text and '"Balance":199.99' in created.text
    plain = api.post("/bill", json=bill_body("56", 10)).json()["Bill"]
    assert plain["DueDate"] == plain["TxnDate"] == "2025-06-01"  # no term: due on the bill's date
    assert api.get(f"/bill/{bill['Id']}").json()["Bill"] == bill


def test_bill_faults(books: Client) -> None:
    _, api = books
    missing_vendor = api.post("/bill", json={"Line": [expense("7", 5)]})
    assert code_of(missing_vendor) == "2020"
    assert missing_vendor.json()["Fault"]["Error"][0]["element"] == "VendorRef"
    assert code_of(api.post("/bill", json={"VendorRef": {"value": "56"}})) == "2020"  # Line
    assert code_of(api.post("/bill", json=bill_body("999999"))) == "610"
    assert (
        code_of(api.post("/bill", json=bill_body("56", APAccountRef={"value": "35"}))) == "6000"
    )  # Checking
    no_account = {
        "VendorRef": {"value": "56"},
        "Line": [{"DetailType": "AccountBasedExpenseLineDetail", "Amount": 1}],
    }
    assert code_of(api.post("/bill", json=no_account)) == "2020"


def test_bill_payment_moves_the_bill_balance_and_the_vendor_balance(books: Client) -> None:
    _, api = books
    bill = api.post("/bill", json=bill_body("46", 300)).json()["Bill"]
    first = pay(api, bill, 120, PrivateNote="Acct. 1JK90")
    assert first.status_code == 200, first.text
    payment = first.json()["BillPayment"]
    assert payment["CheckPayment"]["BankAccountRef"] == {"value": "35", "name": "Checking"}
    assert payment["CheckPayment"]["PrintStatus"] == "NeedToPrint"
    assert payment["Line"] == [{"Amount": 120, "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}]
    after = api.get(f"/bill/{bill['Id']}").json()["Bill"]
    assert after["Balance"] == 180 and after["SyncToken"] == "1"  # as a payment bumps its invoice
    assert after["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "BillPaymentCheck"}]
    vendor = api.get("/vendor/46").json()["Vendor"]
    assert vendor["Balance"] == 180 and vendor["SyncToken"] == "0"
    # Paying more than the open balance, or another vendor's bill, is refused; nothing moves.
    assert code_of(pay(api, after, "180.01")) == "6000"
    other = api.post("/bill", json=bill_body("47", 50)).json()["Bill"]
    wrong_vendor = pay(api, {**other, "VendorRef": {"value": "46"}}, 10)
    assert code_of(wrong_vendor) == "6000"
    assert code_of(pay(api, after, 100, total=50)) == "6000"  # lines above TotalAmt
    # The sparse update of the payment re-applies the difference only.
    updated = api.post(
        "/billpayment",
        json={
            "Id": payment["Id"],
            "SyncToken": payment["SyncToken"],
            "sparse": True,
            "TotalAmt": 300,
            "Line": [{"Amount": 300, "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}],
        },
    )
    assert updated.status_code == 200, updated.text
    assert api.get(f"/bill/{bill['Id']}").json()["Bill"]["Balance"] == 0
    assert api.get("/vendor/46").json()["Vendor"]["Balance"] == 0
    # A bill with a payment cannot be deleted; voiding the payment restores the balance.
    refused = api.post("/bill", params={"operation": "delete"}, json={"Id": bill["Id"], "SyncToken": "2"})
    assert code_of(refused) == "6000"
    current = updated.json()["BillPayment"]
    voided = api.post(
        "/billpayment",
        params={"operation": "void"},
        json={"Id": current["Id"], "SyncToken": current["SyncToken"]},
    )
    assert voided.status_code == 200, voided.text
    gone = voided.json()["BillPayment"]
    assert gone["TotalAmt"] == 0 and gone["Line"] == [] and gone["PrivateNote"] == "Voided - Acct. 1JK90"
    restored = api.get(f"/bill/{bill['Id']}").json()["Bill"]
    assert restored["Balance"] == 300 and "LinkedTxn" in restored and restored["LinkedTxn"] == []
    deleted = api.post(
        "/bill", params={"operation": "delete"}, json={"Id": bill["Id"], "SyncToken": restored["SyncToken"]}
    )
    assert deleted.json()["Bill"] == {"status": "Deleted", "domain": "QBO", "Id": bill["Id"]}


def test_bill_payment_by_card_and_vendor_credit(books: Client) -> None:
    _, api = books
    bill = api.post("/bill", json=bill_body("30", 100)).json()["Bill"]
    credit = api.post("/vendorcredit", json=bill_body("30", 30))
    assert credit.status_code == 200, credit.text
    vc = credit.json()["VendorCredit"]
    assert vc["TotalAmt"] == 30 and vc["Balance"] == 30
    assert api.get("/vendor/30").json()["Vendor"]["Balance"] == 70  # open bills less open credits
    body = {
        "VendorRef": {"value": "30"},
        "PayType": "CreditCard",
        "TotalAmt": 70,
        "CreditCardPayment": {"CCAccountRef": {"value": "42"}},
        "Line": [
            {"Amount": 100, "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]},
            {"Amount": 30, "LinkedTxn": [{"TxnId": vc["Id"], "TxnType": "VendorCredit"}]},
        ],
    }
    paid = api.post("/billpayment", json=body)
    assert paid.status_code == 200, paid.text
    assert paid.json()["BillPayment"]["CreditCardPayment"]["CCAccountRef"]["name"] == "Visa"
    assert api.get(f"/bill/{bill['Id']}").json()["Bill"]["LinkedTxn"][0]["TxnType"] == "BillPaymentCreditCard"
    assert api.get(f"/vendorcredit/{vc['Id']}").json()["VendorCredit"]["Balance"] == 0
    assert api.get("/vendor/30").json()["Vendor"]["Balance"] == 0
    wrong_card = {**body, "CreditCardPayment": {"CCAccountRef": {"value": "35"}}}
    assert code_of(api.post("/billpayment", json=wrong_card)) == "6000"  # Checking is no credit card
    no_bank = {**body, "PayType": "Check"}
    assert code_of(api.post("/billpayment", json=no_bank)) == "2020"  # CheckPayment.BankAccountRef


def test_purchase_order_is_closed_by_the_bill_that_links_it(books: Client) -> None:
    _, api = books
    line = {
        "DetailType": "ItemBasedExpenseLineDetail",
        "ItemBasedExpenseLineDetail": {"ItemRef": {"value": "16"}, "Qty": 25, "UnitPrice": "0.75"},
    }
    body = {"VendorRef": {"value": "41"}, "APAccountRef": {"value": "33"}, "Line": [line]}
    created = api.post("/purchaseorder", json=body)
    assert created.status_code == 200, created.text
    po = created.json()["PurchaseOrder"]
    assert po["TotalAmt"] == 18.75 and po["POStatus"] == "Open" and po["EmailStatus"] == "NotSet"
    assert po["DocNumber"] == "1001" and po["Line"][0]["Amount"] == 18.75
    assert po["Line"][0]["ItemBasedExpenseLineDetail"]["ItemRef"] == {
        "value": "16",
        "name": "Sprinkler Heads",
    }
    assert code_of(api.post("/purchaseorder", json={**body, "APAccountRef": None})) == "2020"
    services = {**line, "ItemBasedExpenseLineDetail": {"ItemRef": {"value": "1"}, "Qty": 1, "UnitPrice": 5}}
    assert code_of(api.post("/purchaseorder", json={**body, "Line": [services]})) == "6000"  # no expense acct
    linked = bill_body("41", "18.75", LinkedTxn=[{"TxnId": po["Id"], "TxnType": "PurchaseOrder"}])
    bill = api.post("/bill", json=linked).json()["Bill"]
    closed = api.get(f"/purchaseorder/{po['Id']}").json()["PurchaseOrder"]
    assert closed["POStatus"] == "Closed" and closed["SyncToken"] == "1"
    assert closed["LinkedTxn"] == [{"TxnId": bill["Id"], "TxnType": "Bill"}]
    api.post("/bill", params={"operation": "delete"}, json={"Id": bill["Id"], "SyncToken": "0"})
    reopened = api.get(f"/purchaseorder/{po['Id']}").json()["PurchaseOrder"]
    assert reopened["POStatus"] == "Open" and reopened["LinkedTxn"] == []
    foreign = bill_body("46", 1, LinkedTxn=[{"TxnId": po["Id"], "TxnType": "PurchaseOrder"}])
    assert code_of(api.post("/bill", json=foreign)) == "6000"  # another vendor's purchase order


def test_query_batch_and_cdc(qbo: Sandbox, books: Client) -> None:
    _, api = books
    since = qbo.clock.now().isoformat()
    qbo.clock.advance(5)
    batch = {
        "BatchItemRequest": [
            {"bId": "b1", "operation": "create", "Bill": bill_body("56", 75)},
            {"bId": "b2", "operation": "create", "VendorCredit": bill_body("56", 5)},
            {"bId": "b3", "operation": "create", "Bill": {"Line": [expense("7", 1)]}},
        ]
    }
    items = api.post("/batch", json=batch).json()["BatchItemResponse"]
    assert items[0]["Bill"]["TotalAmt"] == 75 and items[1]["VendorCredit"]["Balance"] == 5
    assert items[2]["Fault"]["Error"][0]["code"] == "2020"
    found = api.get("/query", params={"query": "select * from Bill where VendorRef = '56'"}).json()
    assert [b["Id"] for b in found["QueryResponse"]["Bill"]] == [items[0]["Bill"]["Id"]]
    assert found["QueryResponse"]["totalCount"] == 1
    changes = api.get(
        "/cdc", params={"entities": "Bill,VendorCredit,BillPayment", "changedSince": since}
    ).json()
    bills, credits, payments = changes["CDCResponse"][0]["QueryResponse"]
    assert len(bills["Bill"]) == 1 and len(credits["VendorCredit"]) == 1 and payments == {}


def test_webhooks_name_what_changed(qbo: Sandbox, books: Client) -> None:
    _, api = books
    receiver = Receiver()
    with LocalServer(receiver) as hook:
        qbo.admin("POST", "webhooks", {"url": hook.url})
        try:
            bill = api.post("/bill", json=bill_body("56", 10)).json()["Bill"]
            pay(api, bill, 10)
            api.post("/attachable", json={"Note": "no webhook for notes"})
            api.post("/companycurrency", json={"Code": "AUD"})
            qbo.admin("POST", "webhooks/flush")
        finally:
            qbo.admin("POST", "webhooks", {"url": None})
    events = [
        (e["name"], e["operation"])
        for body in receiver.bodies
        for n in json.loads(body)["eventNotifications"]
        for e in n["dataChangeEvent"]["entities"]
    ]
    assert events == [
        ("Bill", "Create"),
        ("Bill", "Update"),
        ("BillPayment", "Create"),
        ("Currency", "Create"),
    ]
