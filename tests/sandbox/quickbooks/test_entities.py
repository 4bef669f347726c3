"""Entities over raw HTTP: CRUD, sparse/full update, faults, totals, payments and balances, requestid."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.sandbox.quickbooks.conftest import Sandbox

Client = tuple[str, httpx.Client]


def invoice_body(customer: str = "1", amounts: tuple[int, ...] = (100,), **extra: Any) -> dict[str, Any]:
    lines = [
        {"DetailType": "SalesItemLineDetail", "Amount": a, "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}
        for a in amounts
    ]
    return {"CustomerRef": {"value": customer}, "Line": lines, **extra}


def code_of(response: httpx.Response) -> str:
    return str(response.json()["Fault"]["Error"][0]["code"])


def test_create_read_sparse_and_full_update(realm: Client) -> None:
    _, api = realm
    created = api.post("/customer", json={"DisplayName": "Kim Builders", "Notes": "n1"}).json()
    cust = created["Customer"]
    assert isinstance(cust["Id"], str) and cust["SyncToken"] == "0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-07:00", created["time"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-07:00", cust["MetaData"]["CreateTime"])
    read = api.get(f"/customer/{cust['Id']}").json()["Customer"]
    assert read == cust
    sparse = api.post(
        "/customer", json={"Id": cust["Id"], "SyncToken": "0", "sparse": True, "CompanyName": "Kim"}
    )
    after = sparse.json()["Customer"]
    assert after["SyncToken"] == "1" and after["Notes"] == "n1" and after["CompanyName"] == "Kim"
    assert after["MetaData"]["CreateTime"] == cust["MetaData"]["CreateTime"]
    full = api.post(
        "/customer", json={"Id": cust["Id"], "SyncToken": "1", "DisplayName": "Kim Builders"}
    ).json()
    assert (
        full["Customer"]["SyncToken"] == "2" and "Notes" not in full["Customer"]
    )  # full update clears omitted


def test_stale_synctoken_is_5010_and_changes_nothing(realm: Client) -> None:
    _, api = realm
    cust = api.post("/customer", json={"DisplayName": "Stale Co"}).json()["Customer"]
    api.post("/customer", json={"Id": cust["Id"], "SyncToken": "0", "sparse": True, "Notes": "first"})
    stale = api.post(
        "/customer", json={"Id": cust["Id"], "SyncToken": "0", "sparse": True, "Notes": "second"}
    )
    assert stale.status_code == 400 and code_of(stale) == "5010"
    assert api.get(f"/customer/{cust['Id']}").json()["Customer"]["Notes"] == "first"


def test_display_names_are_unique_across_customers_vendors_employees(realm: Client) -> None:
    _, api = realm
    assert api.post("/customer", json={"DisplayName": "Shared Name"}).status_code == 200
    dup = api.post("/vendor", json={"DisplayName": "shared name"})
    assert dup.status_code == 400 and code_of(dup) == "6240"
    assert code_of(api.post("/employee", json={"DisplayName": "Shared Name"})) == "6240"
    assert code_of(api.post("/item", json={"Name": "Services"})) == "6240"


def test_docnumber_unique_unless_allowed(realm: Client) -> None:
    _, api = realm
    first = api.post("/invoice", json=invoice_body(DocNumber="INV-1"))
    assert first.status_code == 200
    dup = api.post("/invoice", json=invoice_body(DocNumber="INV-1"))
    assert code_of(dup) == "6140"
    assert f"TxnId={first.json()['Invoice']['Id']}" in dup.json()["Fault"]["Error"][0]["Detail"]
    allowed = api.post(
        "/invoice", params={"include": "allowduplicatedocnum"}, json=invoice_body(DocNumber="INV-1")
    )
    assert allowed.status_code == 200


def test_required_fields_and_not_found(realm: Client) -> None:
    _, api = realm
    missing = api.post("/invoice", json={"Line": invoice_body()["Line"]})
    assert code_of(missing) == "2020" and missing.json()["Fault"]["Error"][0]["element"] == "CustomerRef"
    no_type = api.post("/invoice", json=invoice_body() | {"Line": [{"Amount": 5}]})
    assert no_type.json()["Fault"]["Error"][0]["element"] == "Line.DetailType"
    assert code_of(api.get("/invoice/424242")) == "610"
    assert code_of(api.post("/invoice", json=invoice_body(customer="424242"))) == "610"
    assert code_of(api.post("/invoice", json={"Id": "424242", "SyncToken": "0", "sparse": True})) == "610"
    assert (
        api.post("/invoice", content=b"{not json", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    assert (
        code_of(api.post("/customer", params={"operation": "delete"}, json={"Id": "1", "SyncToken": "0"}))
        == "500"
    )


def test_invoice_totals_money_text_and_tax(realm: Client) -> None:
    _, api = realm
    body: dict[str, Any] = {
        "CustomerRef": {"value": "1"},
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": 33.5,
                "SalesItemLineDetail": {
                    "ItemRef": {"value": "3"},
                    "Qty": 2,
                    "UnitPrice": 16.75,
                    "TaxCodeRef": {"value": "TAX"},
                },
            },
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": 10,
                "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
            },
            {
                "DetailType": "DiscountLineDetail",
                "Amount": 3.5,
                "DiscountLineDetail": {"PercentBased": False},
            },
        ],
        "TxnTaxDetail": {"TxnTaxCodeRef": {"value": "2"}},
        "TxnDate": "2025-05-27T00:00:00",
    }
    response = api.post("/invoice", json=body)
    text = response.text
    inv = response.json()["Invoice"]
    # Taxable 33.50 at 8% = 2.68; total 43.50 - 3.50 + 2.68 = 42.68
    assert '"TotalAmt":42.68' in text and '"Balance":42.68' in text
    assert '"Amount":33.50' in text and '"UnitPrice":16.75' in text and '"Qty":2,' in text
    assert '"NetAmountTaxable":33.50' in text and '"TaxPercent":8' in text and '"ExchangeRate":1' in text
    assert inv["TxnDate"] == "2025-05-27" and inv["DueDate"] == "2025-06-26"
    assert [ln["DetailType"] for ln in inv["Line"]] == [
        "SalesItemLineDetail",
        "SalesItemLineDetail",
        "SubTotalLineDetail",
        "DiscountLineDetail",
    ]
    assert [ln.get("Id") for ln in inv["Line"]] == ["1", "2", None, None]
    bad = dict(body, Line=[{**body["Line"][0], "Amount": 30}])
    assert code_of(api.post("/invoice", json=bad)) == "6070"  # Amount must equal UnitPrice * Qty


def test_sparse_update_with_lines_gives_new_line_ids(realm: Client) -> None:
    _, api = realm
    inv = api.post("/invoice", json=invoice_body(amounts=(10, 20))).json()["Invoice"]
    updated = api.post(
        "/invoice",
        json={
            "Id": inv["Id"],
            "SyncToken": "0",
            "sparse": True,
            "Line": invoice_body(amounts=(5, 6))["Line"],
        },
    ).json()["Invoice"]
    assert [ln.get("Id") for ln in updated["Line"][:2]] == ["4", "5"]
    assert updated["TotalAmt"] == 11


def test_payment_links_move_invoice_balance(realm: Client) -> None:
    _, api = realm
    inv = api.post("/invoice", json=invoice_body(amounts=(100,))).json()["Invoice"]
    link = [{"TxnId": inv["Id"], "TxnType": "Invoice"}]
    pay = api.post(
        "/payment",
        json={"CustomerRef": {"value": "1"}, "TotalAmt": 40, "Line": [{"Amount": 40, "LinkedTxn": link}]},
    )
    payment = pay.json()["Payment"]
    assert '"UnappliedAmt":0' in pay.text and '"TotalAmt":40.00' in pay.text
    open_balance = payment["Line"][0]["LineEx"]["any"][1]["value"]
    assert open_balance == {"Name": "txnOpenBalance", "Value": "100.00"}
    after = api.get(f"/invoice/{inv['Id']}").json()["Invoice"]
    assert after["Balance"] == 60 and after["SyncToken"] == "1"
    assert {"TxnId": payment["Id"], "TxnType": "Payment"} in after["LinkedTxn"]
    assert api.get("/customer/1").json()["Customer"]["Balance"] >= 60
    # Too much for the open balance: refused, nothing moves.
    over = api.post(
        "/payment",
        json={"CustomerRef": {"value": "1"}, "TotalAmt": 70, "Line": [{"Amount": 70, "LinkedTxn": link}]},
    )
    assert code_of(over) == "6000"
    # An invoice with a payment cannot be deleted; voiding the payment restores the balance.
    assert (
        code_of(
            api.post("/invoice", params={"operation": "delete"}, json={"Id": inv["Id"], "SyncToken": "1"})
        )
        == "6000"
    )
    voided = api.post(
        "/payment", params={"operation": "void"}, json={"Id": payment["Id"], "SyncToken": "0"}
    ).json()
    assert voided["Payment"]["TotalAmt"] == 0 and voided["Payment"]["PrivateNote"] == "Voided"
    restored = api.get(f"/invoice/{inv['Id']}").json()["Invoice"]
    assert restored["Balance"] == 100 and restored["LinkedTxn"] == []
    deleted = api.post(
        "/payment", params={"operation": "delete"}, json={"Id": payment["Id"], "SyncToken": "1"}
    )
    assert deleted.json()["Payment"] == {"status": "Deleted", "domain": "QBO", "Id": payment["Id"]}
    assert code_of(api.get(f"/payment/{payment['Id']}")) == "610"


def test_invoice_void_and_delete(realm: Client) -> None:
    _, api = realm
    inv = api.post("/invoice", json=invoice_body(amounts=(80,), PrivateNote="keep")).json()["Invoice"]
    void = api.post("/invoice", params={"operation": "void"}, json={"Id": inv["Id"], "SyncToken": "0"})
    voided = void.json()["Invoice"]
    assert '"TotalAmt":0,' in void.text and voided["Balance"] == 0 and voided["SyncToken"] == "1"
    assert voided["PrivateNote"].startswith("Voided")
    stale = api.post("/invoice", params={"operation": "delete"}, json={"Id": inv["Id"], "SyncToken": "0"})
    assert code_of(stale) == "5010"
    gone = api.post("/invoice", params={"operation": "delete"}, json={"Id": inv["Id"], "SyncToken": "1"})
    assert gone.json()["Invoice"]["status"] == "Deleted"
    assert code_of(api.get(f"/invoice/{inv['Id']}")) == "610"


def test_other_transactions(realm: Client) -> None:
    _, api = realm
    purchase = api.post(
        "/purchase",
        json={
            "AccountRef": {"value": "35"},
            "PaymentType": "Check",
            "Line": [
                {
                    "DetailType": "AccountBasedExpenseLineDetail",
                    "Amount": 12.5,
                    "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "7"}},
                }
            ],
        },
    )
    assert '"TotalAmt":12.50' in purchase.text
    assert code_of(api.post("/purchase", json={"PaymentType": "Cash", "Line": []})) == "2020"
    deposit = api.post(
        "/deposit",
        json={
            "DepositToAccountRef": {"value": "35"},
            "Line": [
                {
                    "Amount": 20,
                    "DetailType": "DepositLineDetail",
                    "DepositLineDetail": {"AccountRef": {"value": "79"}},
                }
            ],
        },
    )
    assert deposit.json()["Deposit"]["TotalAmt"] == 20
    refund = api.post(
        "/refundreceipt", json=invoice_body(amounts=(15,)) | {"DepositToAccountRef": {"value": "35"}}
    )
    assert refund.json()["RefundReceipt"]["TotalAmt"] == 15
    assert code_of(api.post("/refundreceipt", json=invoice_body(amounts=(15,)))) == "2020"
    unbalanced = {
        "Line": [
            {
                "DetailType": "JournalEntryLineDetail",
                "Amount": 5,
                "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": "35"}},
            },
            {
                "DetailType": "JournalEntryLineDetail",
                "Amount": 4,
                "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": {"value": "79"}},
            },
        ]
    }
    assert code_of(api.post("/journalentry", json=unbalanced)) == "6000"
    unbalanced["Line"][1]["Amount"] = 5
    je = api.post("/journalentry", json=unbalanced).json()["JournalEntry"]
    assert [ln["Id"] for ln in je["Line"]] == ["0", "1"]


def test_requestid_returns_the_original_and_applies_once(qbo: Sandbox, realm: Client) -> None:
    realm_id, api = realm
    body = {"DisplayName": "Once Only"}
    first = api.post("/customer", params={"requestid": "req-1"}, json=body)
    again = api.post("/customer", params={"requestid": "req-1"}, json=body)
    assert first.status_code == again.status_code == 200 and first.content == again.content
    items = qbo.admin("GET", f"realms/{realm_id}/entities/Customer")["items"]
    assert sum(1 for c in items if c["DisplayName"] == "Once Only") == 1
    assert qbo.admin("GET", f"stats?realm={realm_id}")["idempotent_replays"] == 1
    assert (
        api.post("/customer", params={"requestid": "x" * 51}, json={"DisplayName": "Long"}).status_code == 400
    )


def test_company_offset_follows_the_realm_timezone(qbo: Sandbox) -> None:
    realm_id, tokens = qbo.realm(timezone="America/New_York")
    with qbo.api(realm_id, tokens["access_token"]) as api:
        created = api.post("/customer", json={"DisplayName": "East"}).json()
    assert created["time"].endswith("-04:00") and created["Customer"]["MetaData"]["CreateTime"].endswith(
        "-04:00"
    )
    assert qbo.app.store.realms[realm_id].tz.key == "America/New_York"


def test_admin_entity_listing_and_seeding(qbo: Sandbox, realm: Client) -> None:
    realm_id, api = realm
    seeded = qbo.seed(realm_id, "Customer", [{"Id": "59", "DisplayName": "Accenture", "SyncToken": "7"}])
    assert seeded[0]["SyncToken"] == "7"
    assert api.get("/customer/59").json()["Customer"]["SyncToken"] == "7"
    listing = qbo.admin("GET", f"realms/{realm_id}/entities/Customer")
    assert listing["count"] == len(listing["items"]) >= 2
    assert qbo.admin("GET", f"realms/{realm_id}/entities/Nope", expect=404)["error"]
    info = qbo.admin("GET", f"realms/{realm_id}")
    assert info["entity_counts"]["Account"] >= 10
    assert api.get(f"/companyinfo/{realm_id}").json()["CompanyInfo"]["CompanyName"]
