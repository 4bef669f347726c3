"""Transfer, CreditCardPayment (answered as CreditCardPaymentTxn), TimeActivity and Deposit over raw HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.sandbox.quickbooks.conftest import Sandbox

Client = tuple[str, httpx.Client]


def code_of(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    return str(response.json()["Fault"]["Error"][0]["code"])


@pytest.fixture
def books(qbo: Sandbox) -> Iterator[Client]:
    realm_id, tokens = qbo.realm(seed="lists")
    with qbo.api(realm_id, tokens["access_token"]) as api:
        yield realm_id, api


def test_transfer(books: Client) -> None:
    _, api = books
    body = {"FromAccountRef": {"value": "35"}, "ToAccountRef": {"value": "36"}, "Amount": 100}
    created = api.post("/transfer", json=body)
    assert created.status_code == 200, created.text
    transfer = created.json()["Transfer"]
    assert transfer["FromAccountRef"] == {"value": "35", "name": "Checking"}
    assert transfer["ToAccountRef"] == {"value": "36", "name": "Savings"}
    assert transfer["Amount"] == 100 and '"Amount":100.00' in created.text
    assert transfer["TxnDate"] == "2025-06-10"  # the company's today
    sparse = {"Id": transfer["Id"], "SyncToken": "0", "sparse": True, "Amount": "101.5"}
    assert api.post("/transfer", json=sparse).json()["Transfer"]["Amount"] == 101.5
    assert code_of(api.post("/transfer", json={**body, "ToAccountRef": {"value": "35"}})) == "6000"
    assert code_of(api.post("/transfer", json={**body, "Amount": 0})) == "6000"
    missing = api.post("/transfer", json={"FromAccountRef": {"value": "35"}, "Amount": 1})
    assert code_of(missing) == "2020" and missing.json()["Fault"]["Error"][0]["element"] == "ToAccountRef"
    query = api.get("/query", params={"query": "select * from Transfer where Amount > '100'"}).json()
    assert [t["Id"] for t in query["QueryResponse"]["Transfer"]] == [transfer["Id"]]


def test_credit_card_payment_is_answered_as_credit_card_payment_txn(books: Client) -> None:
    _, api = books
    body = {
        "TxnDate": "2025-06-01",
        "Amount": "100",
        "BankAccountRef": {"value": "35"},
        "CreditCardAccountRef": {"value": "42"},
        "PrivateNote": "This will fill in the memo field.",
    }
    created = api.post("/creditcardpayment", json=body)
    assert created.status_code == 200, created.text
    payment = created.json()["CreditCardPaymentTxn"]
    assert payment["Amount"] == 100 and payment["CurrencyRef"] == {
        "value": "USD",
        "name": "United States Dollar",
    }
    assert payment["CreditCardAccountRef"] == {"value": "42", "name": "Visa"}
    read = api.get(f"/creditcardpayment/{payment['Id']}").json()
    assert read["CreditCardPaymentTxn"] == payment
    listed = api.get("/query", params={"query": "select * from CreditCardPayment"}).json()["QueryResponse"]
    assert [p["Id"] for p in listed["CreditCardPaymentTxn"]] == [payment["Id"]] and listed["totalCount"] == 1
    swapped = {**body, "BankAccountRef": {"value": "42"}, "CreditCardAccountRef": {"value": "35"}}
    assert code_of(api.post("/creditcardpayment", json=swapped)) == "6000"
    batch = {
        "BatchItemRequest": [
            {"bId": "1", "operation": "update", "CreditCardPayment": {**payment, "Amount": 150}},
        ]
    }
    updated = api.post("/batch", json=batch).json()["BatchItemResponse"][0]
    assert (
        updated["CreditCardPaymentTxn"]["Amount"] == 150
        and updated["CreditCardPaymentTxn"]["SyncToken"] == "1"
    )
    deleted = api.post(
        "/creditcardpayment", params={"operation": "delete"}, json={"Id": payment["Id"], "SyncToken": "1"}
    )
    assert deleted.json()["CreditCardPaymentTxn"]["status"] == "Deleted"


def test_time_activity(books: Client) -> None:
    _, api = books
    by_times = {
        "NameOf": "Employee",
        "EmployeeRef": {"value": "55"},
        "TxnDate": "2025-06-02",
        "StartTime": "08:00:00-07:00",
        "EndTime": "17:00:00-07:00",
        "CostRate": 50.0,
        "Description": "Test description",
    }
    created = api.post("/timeactivity", json=by_times)
    assert created.status_code == 200, created.text
    activity = created.json()["TimeActivity"]
    assert (
        activity["StartTime"] == "2025-06-02T08:00:00-07:00"
        and activity["EndTime"] == "2025-06-02T17:00:00-07:00"
    )
    assert activity["EmployeeRef"] == {"value": "55", "name": "Emily Platt"}
    assert (
        activity["BillableStatus"] == "NotBillable"
        and activity["HourlyRate"] == 0
        and activity["CostRate"] == 50
    )
    full_times = {
        **by_times,
        "TxnDate": None,
        "StartTime": "2016-07-22T10:00:00-07:00",
        "EndTime": "2016-07-22T11:00:00-07:00",
    }
    assert api.post("/timeactivity", json=full_times).json()["TimeActivity"]["TxnDate"] == "2016-07-22"
    by_hours = {"NameOf": "Vendor", "VendorRef": {"value": "48"}, "Hours": 3, "Minutes": 15}
    hours = api.post("/timeactivity", json=by_hours).json()["TimeActivity"]
    assert (hours["Hours"], hours["Minutes"], hours["VendorRef"]["name"]) == (3, 15, "Pam Seitz")
    assert code_of(api.post("/timeactivity", json={"EmployeeRef": {"value": "55"}, "Hours": 1})) == "2020"
    assert (
        code_of(api.post("/timeactivity", json={"NameOf": "Employee", "EmployeeRef": {"value": "55"}}))
        == "2020"
    )
    billable = {**by_hours, "BillableStatus": "Billable"}
    assert api.post("/timeactivity", json=billable).json()["Fault"]["Error"][0]["element"] == "CustomerRef"
    billed = {**billable, "CustomerRef": {"value": "21"}, "HourlyRate": 15}
    assert api.post("/timeactivity", json=billed).json()["TimeActivity"]["BillableStatus"] == "Billable"
    assert code_of(api.post("/timeactivity", json={**billed, "BillableStatus": "HasBeenBilled"})) == "2010"
    backwards = {**by_times, "StartTime": "17:00:00-07:00", "EndTime": "08:00:00-07:00"}
    assert code_of(api.post("/timeactivity", json=backwards)) == "6000"
    update = {**activity, "Description": "Updated", "CostRate": 75.0}
    assert api.post("/timeactivity", json=update).json()["TimeActivity"]["CostRate"] == 75


def test_deposit_of_accounts_and_of_a_payment(books: Client) -> None:
    _, api = books
    line = {
        "DetailType": "DepositLineDetail",
        "Amount": 20,
        "DepositLineDetail": {"AccountRef": {"value": "83"}},
    }
    body = {
        "DepositToAccountRef": {"value": "36"},
        "Line": [line],
        "CashBack": {"AccountRef": {"value": "8"}, "Amount": 5},
    }
    created = api.post("/deposit", json=body)
    assert created.status_code == 200, created.text
    deposit = created.json()["Deposit"]
    assert deposit["TotalAmt"] == 15 and deposit["CashBack"]["AccountRef"]["name"] == "Bank Charges"
    assert deposit["DepositToAccountRef"] == {"value": "36", "name": "Savings"}
    assert code_of(api.post("/deposit", json={**body, "DepositToAccountRef": {"value": "7"}})) == "6000"
    invoice = {
        "CustomerRef": {"value": "3"},
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": 40,
                "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
            }
        ],
    }
    inv = api.post("/invoice", json=invoice).json()["Invoice"]
    payment = {
        "CustomerRef": {"value": "3"},
        "TotalAmt": 40,
        "Line": [{"Amount": 40, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
    }
    paid = api.post("/payment", json=payment).json()["Payment"]
    linked = {
        "DepositToAccountRef": {"value": "35"},
        "Line": [
            {"Amount": 40, "LinkedTxn": [{"TxnId": paid["Id"], "TxnType": "Payment", "TxnLineId": "0"}]}
        ],
    }
    made = api.post("/deposit", json=linked).json()["Deposit"]
    assert made["Line"][0]["LinkedTxn"] == [{"TxnId": paid["Id"], "TxnType": "Payment", "TxnLineId": "0"}]
    ghost = {**linked, "Line": [{"Amount": 1, "LinkedTxn": [{"TxnId": "999999", "TxnType": "Payment"}]}]}
    assert code_of(api.post("/deposit", json=ghost)) == "610"
