"""The books a new company starts with: "sample" (Intuit-like lists and transactions), "lists", "empty"."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx

from sandbox.common.server import LocalServer
from tests.sandbox.quickbooks.conftest import Receiver, Sandbox, make_sandbox

# The records the README lists (ids and names tests and the demo rely on): never renumbered.
KEPT = {
    "Account": {
        "1": "Services",
        "4": "Undeposited Funds",
        "7": "Advertising",
        "33": "Accounts Payable (A/P)",
        "35": "Checking",
        "41": "Mastercard",
        "45": "Landscaping Services",
        "46": "Job Materials",
        "48": "Fountains and Garden Lighting",
        "79": "Sales of Product Income",
        "80": "Cost of Goods Sold",
        "84": "Accounts Receivable (A/R)",
        "86": "Discounts given",
    },
    "Item": {"1": "Services", "3": "Concrete", "5": "Rock Fountain", "11": "Pump"},
    "TaxCode": {"TAX": "TAX", "NON": "NON", "2": "California"},
    "TaxRate": {"3": "California"},
    "Term": {"3": "Net 30"},
    "PaymentMethod": {"1": "Cash", "2": "Check", "6": "American Express"},
}


def query(api: httpx.Client, text: str) -> dict[str, Any]:
    response = api.get("/query", params={"query": text})
    assert response.status_code == 200, response.text
    return dict(response.json()["QueryResponse"])


def test_the_sample_company(qbo: Sandbox) -> None:
    realm_id, tokens = qbo.realm(seed="sample")
    with qbo.api(realm_id, tokens["access_token"]) as api:
        for entity, names in KEPT.items():
            for entity_id, name in names.items():
                assert api.get(f"/{entity.lower()}/{entity_id}").json()[entity]["Name"] == name
        assert api.get("/customer/1").json()["Customer"]["DisplayName"] == "Amy's Bird Sanctuary"
        assert api.get("/vendor/56").json()["Vendor"]["DisplayName"] == "Bob's Burger Joint"
        accounts = {a["Name"]: a for a in query(api, "select * from Account maxresults 1000")["Account"]}
        assert accounts["Inventory Asset"]["AccountSubType"] == "Inventory" and accounts["Visa"]["Id"] == "42"
        assert (
            accounts["Savings"]["AccountType"] == "Bank"
            and accounts["Depreciation"]["FullyQualifiedName"] == "Truck:Depreciation"
        )
        kinds = Counter(a["Classification"] for a in accounts.values())
        assert all(kinds[c] >= 2 for c in ("Asset", "Liability", "Equity", "Revenue", "Expense")), kinds
        types = Counter(i["Type"] for i in query(api, "select * from Item")["Item"])
        assert types["Inventory"] >= 2 and types["Service"] >= 10 and types["NonInventory"] >= 1
        sprinkler = api.get("/item/16").json()["Item"]
        assert sprinkler["QtyOnHand"] == 25 and sprinkler["AssetAccountRef"]["value"] == "81"
        assert (
            api.get("/customer/8").json()["Customer"]["FullyQualifiedName"]
            == "Freeman Sporting Goods:0969 Ocean View Road"
        )
        assert len(query(api, "select * from Vendor")["Vendor"]) >= 20
        assert [e["DisplayName"] for e in query(api, "select * from Employee")["Employee"]] == [
            "Emily Platt",
            "John Johnson",
        ]
        assert api.get("/companycurrency/1").json()["CompanyCurrency"]["Name"] == "Canadian Dollar"
        # Transactions whose balances follow from each other.
        paid, part_paid = (api.get(f"/invoice/{i}").json()["Invoice"] for i in ("142", "143"))
        assert paid["Balance"] == 0 and paid["LinkedTxn"] == [{"TxnId": "146", "TxnType": "Payment"}]
        assert (
            part_paid["TotalAmt"] == 197
            and part_paid["TxnTaxDetail"]["TotalTax"] == 12
            and part_paid["Balance"] == 97
        )
        assert api.get("/customer/12").json()["Customer"]["Balance"] == 97
        open_invoices = query(api, "select * from Invoice where Balance > '0'")["Invoice"]
        assert {i["DocNumber"] for i in open_invoices} == {
            "SAMPLE-1004",
            "SAMPLE-1005",
            "SAMPLE-1006",
            "SAMPLE-1010",
        }
        assert api.get("/customer/9").json()["Customer"]["Balance"] == 197  # a job: 297 less 100 paid
        assert (
            api.get("/bill/151").json()["Bill"]["Balance"] == 0
            and api.get("/bill/152").json()["Bill"]["Balance"] == 114.09
        )
        assert api.get("/vendor/46").json()["Vendor"]["Balance"] == -25  # its bill paid, a credit open
        counts = qbo.admin("GET", f"realms/{realm_id}")["entity_counts"]
        for entity in ("Estimate", "Invoice", "Payment", "CreditMemo", "SalesReceipt", "Bill", "BillPayment"):
            assert counts[entity] >= 1, entity
        assert (
            counts["RecurringTransaction"] == 2 and counts["TimeActivity"] == 2 and counts["Attachable"] == 1
        )
        dates = {i["TxnDate"] for i in query(api, "select * from Invoice")["Invoice"]}
        assert max(dates) < "2025-06-10"  # dated before the company was made
        created = api.post("/customer", json={"DisplayName": "New One"}).json()["Customer"]
        assert int(created["Id"]) > 177  # the counter is above every seeded id
        assert api.get("/customer/1").json()["Customer"]["Balance"] == 0  # its sample invoice is paid


def test_seeding_sends_no_webhook(qbo: Sandbox) -> None:
    receiver = Receiver()
    with LocalServer(receiver) as hook:
        qbo.admin("POST", "webhooks", {"url": hook.url})
        try:
            realm_id, tokens = qbo.realm(seed="sample")
            with qbo.api(realm_id, tokens["access_token"]) as api:
                api.post("/customer", json={"DisplayName": "After Seeding"})
            qbo.admin("POST", "webhooks/flush")
        finally:
            qbo.admin("POST", "webhooks", {"url": None})
    [body] = receiver.bodies  # the customer only: none of the sample's records
    [entity] = json.loads(body)["eventNotifications"][0]["dataChangeEvent"]["entities"]
    assert (entity["name"], entity["operation"]) == ("Customer", "Create")


def test_lists_and_empty_books(qbo: Sandbox) -> None:
    lists_id, _ = qbo.realm(seed="lists")
    counts = qbo.admin("GET", f"realms/{lists_id}")["entity_counts"]
    assert counts["Account"] >= 40 and counts["Customer"] >= 25 and counts["Item"] >= 15
    assert not {"Invoice", "Payment", "Bill", "Estimate", "RecurringTransaction"} & set(counts)
    empty_id, empty_tokens = qbo.realm(seed="empty")
    assert qbo.admin("GET", f"realms/{empty_id}")["entity_counts"] == {"Preferences": 1}
    with qbo.api(empty_id, empty_tokens["access_token"]) as api:
        assert api.get("/preferences").status_code == 200
        assert query(api, "select * from Account") == {}
    assert "lists" in qbo.admin("POST", "realms", {"seed": "nope"}, expect=400)["error"]


def test_new_company_option_sets_the_default_books() -> None:
    server, sandbox = make_sandbox(new_company="lists")
    try:
        realm_id, _ = sandbox.realm()
        assert "Invoice" not in sandbox.admin("GET", f"realms/{realm_id}")["entity_counts"]
        sample_id, _ = sandbox.realm(seed="sample")
        assert sandbox.admin("GET", f"realms/{sample_id}")["entity_counts"]["Invoice"] == 8
    finally:
        server.stop()
