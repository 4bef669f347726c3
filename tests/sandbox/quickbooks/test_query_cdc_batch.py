"""Query grammar, CDC window/cap/deleted markers and batch, over raw HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.sandbox.quickbooks.conftest import Sandbox

Client = tuple[str, httpx.Client]


def q(api: httpx.Client, text: str) -> httpx.Response:
    return api.get("/query", params={"query": text})


def rows(api: httpx.Client, text: str, key: str) -> list[dict[str, Any]]:
    response = q(api, text)
    assert response.status_code == 200, response.text
    return list(response.json()["QueryResponse"].get(key, []))


@pytest.fixture
def books(qbo: Sandbox) -> Iterator[Client]:
    """Three invoices in an otherwise empty company (the sample's customers would match the queries)."""
    realm_id, tokens = qbo.realm(seed="empty")
    with qbo.api(realm_id, tokens["access_token"]) as api:
        yield realm_id, _invoices(api)


def _invoices(api: httpx.Client) -> httpx.Client:
    income = api.post("/account", json={"Name": "Services", "AccountType": "Income"}).json()["Account"]
    item = api.post("/item", json={"Name": "Services", "IncomeAccountRef": {"value": income["Id"]}})
    item_id = item.json()["Item"]["Id"]
    for name, amount in (("O'Brien Roofing", 10), ("Acme Concrete", 250), ("Zed Electric", 99.5)):
        cust = api.post("/customer", json={"DisplayName": name}).json()["Customer"]
        line = {
            "DetailType": "SalesItemLineDetail",
            "Amount": amount,
            "SalesItemLineDetail": {"ItemRef": {"value": item_id}},
        }
        api.post(
            "/invoice",
            json={"CustomerRef": {"value": cust["Id"]}, "Line": [line], "DocNumber": f"D-{amount}"},
        )
    return api


def test_where_operators(books: Client) -> None:
    _, api = books
    assert [
        r["DocNumber"] for r in rows(api, "SELECT * FROM Invoice WHERE TotalAmt > '50.00'", "Invoice")
    ] == ["D-250", "D-99.5"]
    assert len(rows(api, "select * from Invoice where TotalAmt >= 99.5", "Invoice")) == 2
    assert len(rows(api, "select * from Invoice where TotalAmt < 99.5", "Invoice")) == 1
    assert len(rows(api, "select * from Invoice where TotalAmt <= 99.5", "Invoice")) == 2
    assert (
        len(rows(api, "select * from Invoice where DocNumber IN ('D-10', 'D-250', 'nope')", "Invoice")) == 2
    )
    names = [
        r["DisplayName"]
        for r in rows(api, "select * from Customer where DisplayName LIKE '%Con%'", "Customer")
    ]
    assert names == ["Acme Concrete"]
    both = "select * from Invoice where TotalAmt > '5' AND DocNumber = 'D-10'"
    assert [r["DocNumber"] for r in rows(api, both, "Invoice")] == ["D-10"]
    escaped = rows(
        api, r"select Id, DisplayName from Customer where DisplayName = 'O\'Brien Roofing'", "Customer"
    )
    assert escaped[0]["DisplayName"] == "O'Brien Roofing" and escaped[0]["sparse"] is True
    assert set(escaped[0]) == {"sparse", "Id", "SyncToken", "DisplayName"}
    since = "select * from Invoice where MetaData.LastUpdatedTime >= '2025-01-01T00:00:00-08:00'"
    assert len(rows(api, since, "Invoice")) == 3


def test_name_lists_answer_active_objects_unless_asked(books: Client) -> None:
    _, api = books
    cust = rows(api, "select * from Customer where DisplayName = 'Zed Electric'", "Customer")[0]
    api.post(
        "/customer", json={"Id": cust["Id"], "SyncToken": cust["SyncToken"], "sparse": True, "Active": False}
    )
    assert rows(api, "select * from Customer where DisplayName = 'Zed Electric'", "Customer") == []
    both = "select * from Customer where Active IN (true, false) AND DisplayName = 'Zed Electric'"
    assert [c["Active"] for c in rows(api, both, "Customer")] == [False]
    assert api.get(f"/customer/{cust['Id']}").json()["Customer"]["Active"] is False  # reads still see it
    line = {"DetailType": "SalesItemLineDetail", "Amount": 1, "SalesItemLineDetail": {}}
    refused = api.post("/invoice", json={"CustomerRef": {"value": cust["Id"]}, "Line": [line]})
    assert refused.json()["Fault"]["Error"][0]["code"] == "610"  # "made inactive"


def test_order_paging_count_and_empty(books: Client) -> None:
    _, api = books
    ordered = rows(api, "select * from Invoice orderby TotalAmt desc", "Invoice")
    assert [r["TotalAmt"] for r in ordered] == [250, 99.5, 10]
    page = q(api, "select * from Invoice ORDERBY TotalAmt STARTPOSITION 2 MAXRESULTS 1").json()[
        "QueryResponse"
    ]
    assert page["startPosition"] == 2 and page["maxResults"] == 1 and page["totalCount"] == 3
    assert page["Invoice"][0]["TotalAmt"] == 99.5
    assert q(api, "select count(*) from Invoice").json()["QueryResponse"] == {"totalCount": 3}
    assert q(api, "select * from Invoice where DocNumber = 'none'").json()["QueryResponse"] == {}
    customers = q(api, "select * from Customer").json()["QueryResponse"]
    assert "totalCount" not in customers and customers["maxResults"] == len(customers["Customer"])


def test_maxresults_is_capped_at_1000(qbo: Sandbox, realm: Client) -> None:
    realm_id, api = realm
    qbo.seed(realm_id, "Class", [{"Name": f"C{i:04d}"} for i in range(1005)])
    page = q(api, "select * from Class MAXRESULTS 5000").json()["QueryResponse"]
    assert page["maxResults"] == 1000 and page["totalCount"] == 1005
    assert q(api, "select * from Class").json()["QueryResponse"]["maxResults"] == 100


def test_parse_errors_and_post_form(books: Client) -> None:
    _, api = books
    for bad in (
        "SELECT * FROM NULL",
        "select from Invoice",
        "select * from Invoice where",
        "select * Invoice",
        "select * from Invoice where A = 'x' OR B = 'y'",
        "select * from Invoice where Name = 'unterminated",
    ):
        response = q(api, bad)
        assert response.status_code == 400, bad
        error = response.json()["Fault"]["Error"][0]
        assert (
            error["code"] == "4000" and "element" not in error and error["Message"] == "Error parsing query"
        )
    unknown = q(api, "select * from Unicorn")
    assert unknown.status_code == 400 and unknown.json()["Fault"]["Error"][0]["code"] == "4001"
    posted = api.post(
        "/query",
        content=b"select * from Invoice where DocNumber = 'D-10'",
        headers={"Content-Type": "application/text"},
    )
    assert posted.json()["QueryResponse"]["Invoice"][0]["DocNumber"] == "D-10"


def test_cdc_window_deleted_markers_and_cap(qbo: Sandbox, realm: Client) -> None:
    _, api = realm
    qbo.clock.advance(60)
    since = qbo.clock.now().isoformat()
    qbo.clock.advance(60)
    kept = api.post("/customer", json={"DisplayName": "CDC Kept"}).json()["Customer"]
    gone = api.post(
        "/estimate",
        json={
            "CustomerRef": {"value": kept["Id"]},
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 1, "SalesItemLineDetail": {}}],
        },
    ).json()["Estimate"]
    api.post("/estimate", params={"operation": "delete"}, json={"Id": gone["Id"], "SyncToken": "0"})
    response = api.get("/cdc", params={"entities": "Customer,Estimate,Invoice", "changedSince": since})
    customers, estimates, invoices = response.json()["CDCResponse"][0]["QueryResponse"]
    assert [c["Id"] for c in customers["Customer"]] == [kept["Id"]]
    marker = estimates["Estimate"][0]
    assert marker["status"] == "Deleted" and set(marker) == {"status", "domain", "Id", "MetaData"}
    assert set(marker["MetaData"]) == {"LastUpdatedTime"}
    assert invoices == {}
    too_old = api.get("/cdc", params={"entities": "Customer", "changedSince": "2025-01-01"})
    assert too_old.status_code == 400
    qbo.app.options.cdc_max_objects = 3
    try:
        for i in range(5):
            api.post("/customer", json={"DisplayName": f"Cap {i}"})
        capped = api.get("/cdc", params={"entities": "Customer,Estimate", "changedSince": since}).json()
    finally:
        qbo.app.options.cdc_max_objects = 1000
    first, second = capped["CDCResponse"][0]["QueryResponse"]
    assert len(first["Customer"]) == 3 and second == {}
    assert api.get("/cdc", params={"entities": "Customer"}).status_code == 400


def test_batch_items_are_independent(realm: Client) -> None:
    _, api = realm
    batch = {
        "BatchItemRequest": [
            {"bId": "a", "operation": "create", "Customer": {"DisplayName": "Batch One"}},
            {"bId": "b", "operation": "create", "Customer": {"DisplayName": "Batch One"}},
            {"bId": "c", "operation": "update", "Customer": {"Id": "1", "SyncToken": "99", "sparse": True}},
            {"bId": "d", "Query": "select * from Customer where DisplayName = 'Batch One'"},
            {"bId": "e", "operation": "delete", "Invoice": {"Id": "777777", "SyncToken": "0"}},
            {"bId": "f", "Query": "select * from"},
        ]
    }
    response = api.post("/batch", json=batch)
    assert response.status_code == 200
    body = response.json()
    items = {i["bId"]: i for i in body["BatchItemResponse"]}
    assert items["a"]["Customer"]["DisplayName"] == "Batch One"
    assert items["b"]["Fault"]["Error"][0]["code"] == "6240"
    assert items["c"]["Fault"]["Error"][0]["code"] == "5010"
    assert items["d"]["QueryResponse"] == {}  # items are independent: the query does not see item "a"
    assert [i["bId"] for i in body["BatchItemResponse"]] == ["a", "b", "c", "d", "e", "f"]
    assert items["e"]["Fault"]["Error"][0]["code"] == "610"
    assert items["f"]["Fault"]["Error"][0]["code"] == "4000"
    assert "time" in body and all("time" not in i for i in body["BatchItemResponse"])
    assert all("time" not in i["Fault"] for i in body["BatchItemResponse"] if "Fault" in i)


def test_batch_limit_and_requestid(qbo: Sandbox, realm: Client) -> None:
    realm_id, api = realm
    too_many = {"BatchItemRequest": [{"bId": str(i), "Query": "select * from Term"} for i in range(31)]}
    assert api.post("/batch", json=too_many).status_code == 400
    thirty = {"BatchItemRequest": too_many["BatchItemRequest"][:30]}
    assert len(api.post("/batch", json=thirty).json()["BatchItemResponse"]) == 30
    create = {
        "BatchItemRequest": [{"bId": "1", "operation": "create", "Vendor": {"DisplayName": "Idem Vendor"}}]
    }
    first = api.post("/batch", params={"requestid": "batch-1"}, json=create)
    second = api.post("/batch", params={"requestid": "batch-1"}, json=create)
    assert first.content == second.content and "Fault" not in first.json()["BatchItemResponse"][0]
    vendors = qbo.admin("GET", f"realms/{realm_id}/entities/Vendor")["items"]
    assert sum(v["DisplayName"] == "Idem Vendor" for v in vendors) == 1
    assert api.post("/batch", params={"requestid": "y" * 37}, json=create).status_code == 400
    stats = qbo.admin("GET", f"stats?realm={realm_id}")
    assert stats["batch_requests"] == 5 and stats["requests_by_endpoint"]["POST /batch"] == 5
    assert stats["batch_items"] == 31 + 30 + 1 + 1 + 1
