"""RecurringTransaction templates over raw HTTP: create, read, query by Type, update, delete, batch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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


def invoice_template(name: str, **schedule: Any) -> dict[str, Any]:
    line = {
        "DetailType": "SalesItemLineDetail",
        "Amount": 100,
        "Description": "description",
        "SalesItemLineDetail": {"ItemRef": {"value": "6"}},
    }
    info = {
        "Active": True,
        "RecurType": "Automated",
        "Name": name,
        "ScheduleInfo": {
            "StartDate": "2025-06-10",
            "IntervalType": "Monthly",
            "NumInterval": 1,
            "DayOfMonth": 1,
            **schedule,
        },
    }
    return {"Invoice": {"CustomerRef": {"value": "3"}, "Line": [line], "RecurringInfo": info}}


def test_invoice_template_posts_nothing(books: Client) -> None:
    _, api = books
    created = api.post("/recurringtransaction", json=invoice_template("Gardening", MaxOccurrences=6))
    assert created.status_code == 200, created.text
    template = created.json()["RecurringTransaction"]["Invoice"]
    assert (
        template["TotalAmt"] == 100 and template["Line"][0]["Amount"] == 100 and template["SyncToken"] == "0"
    )
    assert "DocNumber" not in template and "TxnDate" not in template
    assert template["RecurDataRef"] == {"value": "1"}
    schedule = template["RecurringInfo"]["ScheduleInfo"]
    assert schedule["NextDate"] == "2025-07-01" and schedule["MaxOccurrences"] == 6
    read = api.get(f"/recurringtransaction/{template['Id']}").json()
    assert read["RecurringTransaction"] == {"Invoice": template}
    # A template is no invoice: nothing to query, no customer balance, no invoice id.
    assert api.get("/query", params={"query": "select * from Invoice"}).json()["QueryResponse"] == {}
    assert api.get("/customer/3").json()["Customer"]["Balance"] == 0
    assert code_of(api.get(f"/invoice/{template['Id']}")) == "610"
    assert code_of(api.post("/recurringtransaction", json=invoice_template("gardening"))) == "6240"


def test_bill_template_query_update_delete(books: Client) -> None:
    _, api = books
    line = {
        "DetailType": "AccountBasedExpenseLineDetail",
        "Amount": 500,
        "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "17"}},
    }
    info: dict[str, Any] = {
        "Active": True,
        "Name": "Rent",
        "ScheduleInfo": {
            "StartDate": "2025-06-10",
            "EndDate": "2025-09-02",
            "NumInterval": 1,
            "DaysBefore": 3,
            "IntervalType": "Weekly",
            "DayOfWeek": "Friday",
        },
    }
    body = {"Bill": {"VendorRef": {"value": "40"}, "Line": [line], "RecurringInfo": info}}
    bill = api.post("/recurringtransaction", json=body).json()["RecurringTransaction"]["Bill"]
    assert bill["RecurringInfo"]["ScheduleInfo"]["NextDate"] == "2025-06-13"  # the first Friday
    assert bill["RecurringInfo"]["RecurType"] == "Automated" and bill["APAccountRef"]["value"] == "33"
    api.post("/recurringtransaction", json=invoice_template("Monthly"))
    bills = api.get(
        "/query", params={"query": "select * from RecurringTransaction where Type = 'Bill'"}
    ).json()
    assert [list(r) for r in bills["QueryResponse"]["RecurringTransaction"]] == [["Bill"]]
    everything = api.get("/query", params={"query": "select * from RecurringTransaction"}).json()[
        "QueryResponse"
    ]
    assert sorted(next(iter(r)) for r in everything["RecurringTransaction"]) == ["Bill", "Invoice"]
    changed = {**bill, "Line": [{**line, "Amount": 250}]}
    changed["RecurringInfo"] = {**info, "ScheduleInfo": {**info["ScheduleInfo"], "DayOfWeek": "Monday"}}
    updated = api.post("/recurringtransaction", json={"Bill": changed}).json()["RecurringTransaction"]["Bill"]
    assert (
        updated["TotalAmt"] == 250
        and updated["SyncToken"] == "1"
        and updated["RecurDataRef"] == bill["RecurDataRef"]
    )
    assert updated["RecurringInfo"]["ScheduleInfo"]["NextDate"] == "2025-06-16"
    assert code_of(api.post("/recurringtransaction", json={"Bill": {**changed, "SyncToken": "0"}})) == "5010"
    sparse = {"Bill": {"Id": bill["Id"], "SyncToken": "1", "sparse": True, "PrivateNote": "rent"}}
    assert (
        api.post("/recurringtransaction", json=sparse).json()["RecurringTransaction"]["Bill"]["TotalAmt"]
        == 250
    )
    deleted = api.post(
        "/recurringtransaction",
        params={"operation": "delete"},
        json={"Bill": {"Id": bill["Id"], "SyncToken": "2"}},
    )
    assert deleted.json()["RecurringTransaction"] == {
        "status": "Deleted",
        "domain": "QBO",
        "Bill": {"Id": bill["Id"]},
    }
    assert code_of(api.get(f"/recurringtransaction/{bill['Id']}")) == "610"


def test_template_faults_batch_and_admin_seeding(qbo: Sandbox, books: Client) -> None:
    realm_id, api = books
    [seeded] = qbo.seed(realm_id, "RecurringTransaction", [invoice_template("Seeded")])
    read = api.get(f"/recurringtransaction/{seeded['Invoice']['Id']}").json()
    assert read["RecurringTransaction"] == seeded
    no_info = invoice_template("x")
    del no_info["Invoice"]["RecurringInfo"]
    assert code_of(api.post("/recurringtransaction", json=no_info)) == "2020"
    unnamed = invoice_template("")
    assert code_of(api.post("/recurringtransaction", json=unnamed)) == "2020"
    weird = invoice_template("w", IntervalType="Hourly")
    assert code_of(api.post("/recurringtransaction", json=weird)) == "2010"
    assert code_of(api.post("/recurringtransaction", json={"Payment": {}})) == "2010"
    bad_customer = invoice_template("c")
    bad_customer["Invoice"]["CustomerRef"] = {"value": "999999"}
    assert code_of(api.post("/recurringtransaction", json=bad_customer)) == "610"  # the type's own rules
    batch = {
        "BatchItemRequest": [
            {"bId": "1", "operation": "create", "RecurringTransaction": invoice_template("B")}
        ]
    }
    item = api.post("/batch", json=batch).json()["BatchItemResponse"][0]
    assert item["RecurringTransaction"]["Invoice"]["RecurringInfo"]["Name"] == "B"
