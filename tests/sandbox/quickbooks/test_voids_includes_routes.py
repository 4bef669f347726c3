"""Every void and delete form really voids or deletes (amounts, notes, statuses, linked balances),
include=invoiceLink, and unknown routes or operations answered as QBO answers them. Raw HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.sandbox.quickbooks.conftest import Sandbox, make_sandbox

Client = tuple[str, httpx.Client]
SERVICE_LINE = {
    "DetailType": "SalesItemLineDetail",
    "Amount": 100,
    "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
}


def fault(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    return dict(response.json()["Fault"]["Error"][0])


def invoice(api: httpx.Client, **extra: Any) -> dict[str, Any]:
    response = api.post("/invoice", json={"CustomerRef": {"value": "1"}, "Line": [SERVICE_LINE], **extra})
    assert response.status_code == 200, response.text
    return dict(response.json()["Invoice"])


def paid_invoice(api: httpx.Client, amount: int = 60) -> tuple[dict[str, Any], dict[str, Any]]:
    inv = invoice(api)
    payment = api.post(
        "/payment",
        json={
            "CustomerRef": {"value": "1"},
            "TotalAmt": amount,
            "PrivateNote": "cash at the desk",
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
        },
    ).json()["Payment"]
    assert api.get(f"/invoice/{inv['Id']}").json()["Invoice"]["Balance"] == 100 - amount
    return inv, payment


# ---------------------------------------------------------------- voids and deletes


def test_payment_void_as_a_sparse_update_with_include_void(realm: Client) -> None:
    _, api = realm
    inv, payment = paid_invoice(api)
    # python-quickbooks and Intuit's docs: operation=update&include=void, body {Id, SyncToken, sparse}.
    response = api.post(
        "/payment",
        params={"operation": "update", "include": "void", "minorversion": "75"},
        json={"Id": payment["Id"], "SyncToken": payment["SyncToken"], "sparse": True},
    )
    assert response.status_code == 200, response.text
    voided = response.json()["Payment"]
    assert voided["TotalAmt"] == 0 and voided["UnappliedAmt"] == 0 and voided["Line"] == []
    assert voided["PrivateNote"] == "Voided - cash at the desk" and voided["SyncToken"] == "1"
    assert '"TotalAmt":0,' in response.text
    assert api.get(f"/payment/{payment['Id']}").json()["Payment"] == voided
    restored = api.get(f"/invoice/{inv['Id']}").json()["Invoice"]
    assert restored["Balance"] == 100 and restored["LinkedTxn"] == []
    assert api.get("/customer/1").json()["Customer"]["Balance"] == 100


def test_payment_void_by_operation_void_still_voids(realm: Client) -> None:
    # The form of Intuit's payment void sample (kept: the fixture replay sends it).
    _, api = realm
    inv, payment = paid_invoice(api, 40)
    voided = api.post(
        "/payment", params={"operation": "void"}, json={"Id": payment["Id"], "SyncToken": "0"}
    ).json()["Payment"]
    assert voided["TotalAmt"] == 0 and voided["PrivateNote"].startswith("Voided")
    assert api.get(f"/invoice/{inv['Id']}").json()["Invoice"]["Balance"] == 100


def test_sales_receipt_void_by_include_void(realm: Client) -> None:
    _, api = realm
    line = {**SERVICE_LINE, "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 2, "UnitPrice": 50}}
    sr = api.post("/salesreceipt", json={"CustomerRef": {"value": "1"}, "Line": [line]}).json()[
        "SalesReceipt"
    ]
    response = api.post(
        "/salesreceipt",
        params={"include": "void"},  # operation omitted: a POST with an Id is an update
        json={"Id": sr["Id"], "SyncToken": sr["SyncToken"], "sparse": True},
    )
    assert response.status_code == 200, response.text
    voided = response.json()["SalesReceipt"]
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0 and voided["PrivateNote"] == "Voided"
    assert voided["TxnTaxDetail"] == {"TotalTax": 0} and voided["SyncToken"] == "1"
    [zeroed] = voided["Line"]
    assert zeroed["Amount"] == 0 and zeroed["SalesItemLineDetail"]["Qty"] == 0
    assert "UnitPrice" not in zeroed["SalesItemLineDetail"]


def test_void_forms_stay_strict(realm: Client) -> None:
    _, api = realm
    _, payment = paid_invoice(api)
    stale = api.post(
        "/payment",
        params={"operation": "update", "include": "void"},
        json={"Id": payment["Id"], "SyncToken": "7", "sparse": True},
    )
    assert fault(stale)["code"] == "5010"
    unchanged = api.get(f"/payment/{payment['Id']}").json()["Payment"]
    assert unchanged["TotalAmt"] == 60 and unchanged["SyncToken"] == "0"
    # include=void is the void form of payments and receipts only: an invoice is voided with operation=void.
    other = invoice(api)
    refused = api.post(
        "/invoice",
        params={"operation": "update", "include": "void"},
        json={"Id": other["Id"], "SyncToken": "0", "sparse": True},
    )
    assert fault(refused)["Message"] == "Unsupported Operation"
    assert api.get(f"/invoice/{other['Id']}").json()["Invoice"]["TotalAmt"] == 100
    customer = api.post("/customer", params={"operation": "void"}, json={"Id": "1", "SyncToken": "0"})
    assert fault(customer)["code"] == "500"


def test_invoice_void_keeps_the_note_after_voided(realm: Client) -> None:
    _, api = realm
    inv = invoice(api, PrivateNote="duplicate of 1001")
    voided = api.post(
        "/invoice", params={"operation": "void"}, json={"Id": inv["Id"], "SyncToken": inv["SyncToken"]}
    ).json()["Invoice"]
    assert voided["PrivateNote"] == "Voided - duplicate of 1001"
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0 and voided["Line"][0]["Amount"] == 0


def test_delete_with_the_whole_object_as_body(realm: Client) -> None:
    # Some clients send the object they read back (python-quickbooks' DeleteNoIdMixin).
    _, api = realm
    inv, payment = paid_invoice(api)
    deleted = api.post("/payment", params={"operation": "delete"}, json=payment)
    assert deleted.json()["Payment"] == {"status": "Deleted", "domain": "QBO", "Id": payment["Id"]}
    assert api.get(f"/invoice/{inv['Id']}").json()["Invoice"]["Balance"] == 100
    assert fault(api.get(f"/payment/{payment['Id']}"))["code"] == "610"


# ---------------------------------------------------------------- include=invoiceLink


def test_invoice_link_only_when_asked_and_possible(realm: Client) -> None:
    _, api = realm
    payable = {"AllowOnlineCreditCardPayment": True, "AllowOnlineACHPayment": True}
    inv = invoice(api, BillEmail={"Address": "test@email.com"}, **payable)
    assert (
        "InvoiceLink" not in inv and "InvoiceLink" not in api.get(f"/invoice/{inv['Id']}").json()["Invoice"]
    )
    read = api.get(f"/invoice/{inv['Id']}", params={"include": "invoiceLink", "minorversion": "75"})
    link = read.json()["Invoice"]["InvoiceLink"]
    assert link.startswith("https://") and inv["Id"] not in link.split("?")[0].rsplit("/", 1)[0]
    again = api.get(f"/invoice/{inv['Id']}", params={"include": "invoicelink"}).json()["Invoice"]
    assert again["InvoiceLink"] == link
    # On create and on queries too.
    created = api.post(
        "/invoice",
        params={"include": "invoiceLink"},
        json={
            "CustomerRef": {"value": "1"},
            "Line": [SERVICE_LINE],
            "BillEmail": {"Address": "a@b.co"},
            **payable,
        },
    ).json()["Invoice"]
    assert created["InvoiceLink"].startswith("https://") and created["InvoiceLink"] != link
    rows = api.get(
        "/query",
        params={"query": f"select * from Invoice where Id = '{inv['Id']}'", "include": "invoiceLink"},
    ).json()["QueryResponse"]["Invoice"]
    assert rows[0]["InvoiceLink"] == link
    # No link without online payment allowed, or without a valid e-mail.
    for extra in (
        {"BillEmail": {"Address": "test@email.com"}},
        {"BillEmail": {"Address": "nobody"}, **payable},
        payable,
    ):
        plain = invoice(api, **extra)
        assert (
            "InvoiceLink"
            not in api.get(f"/invoice/{plain['Id']}", params={"include": "invoiceLink"}).json()["Invoice"]
        )


@pytest.fixture(scope="module")
def no_payments() -> Iterator[Sandbox]:
    server, sandbox = make_sandbox(online_payments=False)
    try:
        yield sandbox
    finally:
        server.stop()


def test_no_invoice_link_when_the_company_takes_no_online_payments(no_payments: Sandbox) -> None:
    realm_id, tokens = no_payments.realm()
    with no_payments.api(realm_id, tokens["access_token"]) as api:
        inv = invoice(api, AllowOnlineCreditCardPayment=True, BillEmail={"Address": "test@email.com"})
        read = api.get(f"/invoice/{inv['Id']}", params={"include": "invoiceLink"}).json()["Invoice"]
        assert "InvoiceLink" not in read


# ---------------------------------------------------------------- unknown routes and operations


def test_unknown_entity_routes_answer_unsupported_operation(realm: Client) -> None:
    _, api = realm
    # A multipart body to a resource the sandbox does not serve: not a JSON parse error.
    upload = api.post(
        "/bankfeed",
        params={"minorversion": "75"},
        content=b"--b\r\nContent-Disposition: form-data; name=file_metadata_01\r\n\r\n{}\r\n--b--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    error = fault(upload)
    assert (error["code"], error["Message"]) == ("500", "Unsupported Operation")
    assert error["Detail"] == "Operation bankfeed is not supported."
    assert upload.json()["Fault"]["type"] == "ValidationFault"
    assert (
        fault(api.post("/bankrule", json={"Name": "x"}))["Detail"] == "Operation bankrule is not supported."
    )


def test_paths_without_a_resource(realm: Client) -> None:
    realm_id, api = realm
    inv = invoice(api)
    for method, path in (
        ("GET", f"/invoice/{inv['Id']}/pdf"),
        ("POST", f"/invoice/{inv['Id']}/send"),
        ("GET", "/invoice"),
        ("POST", f"/invoice/{inv['Id']}"),
        ("GET", "/companyinfo"),
        ("GET", "/query/1"),
        ("GET", "/"),
    ):
        response = api.request(method, path, params={"minorversion": "75"})
        error = fault(response)
        full = f"/v3/company/{realm_id}{path}"
        assert error["Message"] == "Unsupported Operation"
        assert error["Detail"] == (
            f"Operation Could not find resource for relative : {full} of full path: "
            f"{str(api.base_url).split('/v3/')[0]}{full}?minorversion=75 is not supported."
        )
    # The invoice itself is untouched, and GET /invoice/{id} still reads it.
    assert api.get(f"/invoice/{inv['Id']}").json()["Invoice"]["SyncToken"] == "0"
