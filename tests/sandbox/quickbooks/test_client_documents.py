"""Documents as SDKs write them (empty strings, read-only attributes, numbers for text, zero Qty/UnitPrice
defaults), read the way QBO reads them, and the cases where QBO stays strict. Raw HTTP."""

from __future__ import annotations

from typing import Any

import httpx

Client = tuple[str, httpx.Client]


def sdk_line(amount: Any, **detail: Any) -> dict[str, Any]:
    """A sales line as python-quickbooks serialises one: every attribute, defaults included."""
    return {
        "Amount": amount,
        "CustomField": [],
        "DetailType": "SalesItemLineDetail",
        "LineNum": 0,
        "LinkedTxn": [],
        "SalesItemLineDetail": {
            "ItemRef": {"name": "Services", "type": "Item", "value": "1"},
            "Qty": 0,
            "ServiceDate": "",
            "TaxInclusiveAmt": 0,
            "UnitPrice": 0,
            **detail,
        },
    }


def sdk_invoice(**extra: Any) -> dict[str, Any]:
    """An Invoice as python-quickbooks sends it on create: empty strings and read-only attributes included."""
    return {
        "AllowOnlineACHPayment": False,
        "AllowOnlineCreditCardPayment": False,
        "ApplyTaxAfterDiscount": False,
        "Balance": 0,
        "CustomField": [],
        "CustomerRef": {"name": "Amy's Bird Sanctuary", "value": "1"},
        "Deposit": 0,
        "DocNumber": "",
        "DueDate": "",
        "EmailStatus": "NotSet",
        "ExchangeRate": 1,
        "HomeBalance": 0,
        "HomeTotalAmt": 0,
        "InvoiceLink": "",
        "Line": [sdk_line(100)],
        "LinkedTxn": [],
        "PrintStatus": "NotSet",
        "PrivateNote": "",
        "ShipDate": "",
        "SyncToken": 0,
        "TotalAmt": "",
        "TrackingNum": "",
        "TxnDate": "",
        "domain": "QBO",
        "sparse": False,
        **extra,
    }


def fault(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    return dict(response.json()["Fault"]["Error"][0])


def test_an_sdk_invoice_with_empty_strings_and_defaults_is_accepted(realm: Client) -> None:
    _, api = realm
    response = api.post("/invoice", json=sdk_invoice())
    assert response.status_code == 200, response.text
    inv = response.json()["Invoice"]
    # "" is no value: dates default (TxnDate today, DueDate +30), DocNumber is numbered, notes are absent.
    assert inv["TxnDate"] == "2025-06-10" and inv["DueDate"] == "2025-07-10"
    assert inv["DocNumber"].isdigit()
    for absent in ("ShipDate", "PrivateNote", "TrackingNum", "InvoiceLink"):
        assert absent not in inv
    # Read-only amounts are computed, whatever was sent; the Amount survives the zero Qty/UnitPrice defaults.
    assert inv["TotalAmt"] == 100 and inv["Balance"] == 100 and inv["HomeBalance"] == 100
    line = inv["Line"][0]
    assert line["Amount"] == 100 and "ServiceDate" not in line["SalesItemLineDetail"]
    assert '"Amount":100.00' in response.text


def test_empty_dates_everywhere_are_no_value(realm: Client) -> None:
    _, api = realm
    receipt = {
        "CustomerRef": {"value": "1"},
        "TxnDate": "",
        "ShipDate": "",
        "Line": [sdk_line(35, Qty=1, UnitPrice=35, ServiceDate="")],
    }
    created = api.post("/salesreceipt", json=receipt)
    assert created.status_code == 200, created.text
    sr = created.json()["SalesReceipt"]
    assert sr["TxnDate"] == "2025-06-10" and sr["TotalAmt"] == 35
    assert sr["Line"][0]["SalesItemLineDetail"]["Qty"] == 1


def test_qbo_stays_strict_where_it_is_strict(realm: Client) -> None:
    _, api = realm
    # A real Qty x UnitPrice that disagrees with Amount is 6070; so is a zero price with a real Qty.
    for detail in ({"Qty": 2, "UnitPrice": 10}, {"Qty": 2, "UnitPrice": 0}):
        error = fault(api.post("/invoice", json=sdk_invoice(Line=[sdk_line(100, **detail)])))
        assert error["code"] == "6070"
    # A malformed date is still 2010, an invoice still needs its customer and a line its amount.
    assert fault(api.post("/invoice", json=sdk_invoice(TxnDate="2025-13-45")))["code"] == "2010"
    no_customer = sdk_invoice()
    del no_customer["CustomerRef"]
    assert fault(api.post("/invoice", json=no_customer))["element"] == "CustomerRef"
    assert fault(api.post("/invoice", json=sdk_invoice(CustomerRef={"value": ""})))["code"] == "2020"


def test_receipts_without_a_customer(realm: Client) -> None:
    _, api = realm
    refund = {
        "DocNumber": "DocNum123",
        "PaymentType": "Check",
        "PrivateNote": "Private Note",
        "TotalAmt": 100,
        "Balance": 100,
        "DepositToAccountRef": {"value": "35"},
        "Line": [sdk_line(200)],
    }
    response = api.post("/refundreceipt", json=refund)
    assert response.status_code == 200, response.text
    rr = response.json()["RefundReceipt"]
    assert "CustomerRef" not in rr and rr["TotalAmt"] == 200 and rr["Balance"] == 0
    sale = api.post("/salesreceipt", json={"Line": [sdk_line(12)]})
    assert sale.status_code == 200 and "CustomerRef" not in sale.json()["SalesReceipt"]
    # A refund still needs the account the money leaves from.
    del refund["DepositToAccountRef"]
    assert fault(api.post("/refundreceipt", json=refund))["element"] == "DepositToAccountRef"


def test_numbers_where_text_is_expected(realm: Client) -> None:
    _, api = realm
    body = {
        "CustomerRef": {"value": 1},
        "DocNumber": 4711,
        "PrivateNote": 12,
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": 5,
                "SalesItemLineDetail": {"ItemRef": {"value": 1}},
            }
        ],
    }
    response = api.post("/invoice", json=body)
    assert response.status_code == 200, response.text
    inv = response.json()["Invoice"]
    assert inv["DocNumber"] == "4711" and inv["PrivateNote"] == "12"
    assert '"DocNumber":"4711"' in response.text
    # The number counts for duplicate detection like the text would.
    again = api.post("/invoice", json={**body, "DocNumber": "4711"})
    assert fault(again)["code"] == "6140"
    found = api.get("/query", params={"query": "select * from Invoice where DocNumber = '4711'"})
    assert [i["Id"] for i in found.json()["QueryResponse"]["Invoice"]] == [inv["Id"]]


def test_sparse_empty_string_clears_and_full_update_ignores_read_only(realm: Client) -> None:
    _, api = realm
    inv = api.post("/invoice", json=sdk_invoice(PrivateNote="call first")).json()["Invoice"]
    assert inv["PrivateNote"] == "call first"
    cleared = api.post(
        "/invoice", json={"Id": inv["Id"], "SyncToken": inv["SyncToken"], "sparse": True, "PrivateNote": ""}
    ).json()["Invoice"]
    assert "PrivateNote" not in cleared and cleared["SyncToken"] == "1"
    # A full update as an SDK sends it back (stale read-only amounts, numeric SyncToken) recomputes them.
    full = {**cleared, "SyncToken": 1, "TotalAmt": 1, "Balance": 1, "HomeTotalAmt": "", "TxnDate": ""}
    updated = api.post("/invoice", json=full)
    assert updated.status_code == 200, updated.text
    after = updated.json()["Invoice"]
    assert after["TotalAmt"] == 100 and after["Balance"] == 100 and after["SyncToken"] == "2"
    assert after["TxnDate"] == inv["TxnDate"]


def test_home_currency_rate_is_one_whatever_is_sent(realm: Client) -> None:
    _, api = realm
    memo = {
        "CustomerRef": {"value": "1"},
        "ExchangeRate": 0,  # python-quickbooks' CreditMemo default
        "ApplyTaxAfterDiscount": "",
        "RemainingCredit": 0,
        "Line": [sdk_line(100)],
    }
    response = api.post("/creditmemo", json=memo)
    assert response.status_code == 200, response.text
    cm = response.json()["CreditMemo"]
    assert cm["ExchangeRate"] == 1 and cm["HomeTotalAmt"] == cm["TotalAmt"] == 100
    assert cm["RemainingCredit"] == 100 and cm["ApplyTaxAfterDiscount"] is False
