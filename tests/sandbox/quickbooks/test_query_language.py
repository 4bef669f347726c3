"""The query language as Intuit documents it and as clients send it: explicit columns next to `*`, `!=`,
ORDERBY and ORDER BY, COUNT(*), IN, LIKE, STARTPOSITION/MAXRESULTS edge cases, over raw HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

Client = tuple[str, httpx.Client]


def query(api: httpx.Client, text: str) -> dict[str, Any]:
    response = api.get("/query", params={"query": text})
    assert response.status_code == 200, response.text
    return dict(response.json()["QueryResponse"])


def fault(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    return dict(response.json()["Fault"]["Error"][0])


@pytest.fixture
def books(realm: Client) -> httpx.Client:
    _, api = realm
    for name, sku in (("Gravel", "GRV-1"), ("Rebar", "RBR-2")):
        item = {"Name": name, "Type": "NonInventory", "Sku": sku, "IncomeAccountRef": {"value": "79"}}
        assert api.post("/item", json=item).status_code == 200
    return api


@pytest.mark.parametrize(
    "select", ["SELECT *, Sku FROM Item", "select Sku, * from Item", "SELECT * FROM Item"]
)
def test_star_with_explicit_columns_returns_whole_objects(books: httpx.Client, select: str) -> None:
    # python-quickbooks sends `SELECT *, Sku FROM Item ... MAXRESULTS 100` on every Item.all().
    items = query(books, f"{select} WHERE Name = 'Gravel' MAXRESULTS 100")["Item"]
    assert len(items) == 1
    gravel = items[0]
    assert gravel["Sku"] == "GRV-1" and gravel["sparse"] is False
    assert {"IncomeAccountRef", "MetaData", "Type", "FullyQualifiedName"} <= set(gravel)


def test_explicit_columns_alone_stay_a_projection(books: httpx.Client) -> None:
    [row] = query(books, "select Id, Sku from Item where Name = 'Rebar'")["Item"]
    assert row["sparse"] is True and row["Sku"] == "RBR-2" and "MetaData" not in row


def test_not_equal(realm: Client) -> None:
    _, api = realm
    assets = query(api, "select * from Account where Classification = 'Asset'")["Account"]
    excluded = assets[0]["FullyQualifiedName"]
    text = f"select * from Account where Classification = 'Asset' AND FullyQualifiedName != '{excluded}'"
    others = query(api, text)["Account"]
    assert len(others) == len(assets) - 1
    assert excluded not in {a["FullyQualifiedName"] for a in others}
    # Text compares case-insensitively, so != is its exact negation.
    shouted = text.replace(f"'{excluded}'", f"'{excluded.upper()}'")
    assert len(query(api, shouted)["Account"]) == len(assets) - 1
    # Numbers compare as numbers (the sample company's own invoices are kept out by their DocNumbers).
    for amount in (40, 60):
        line: dict[str, Any] = {
            "DetailType": "SalesItemLineDetail",
            "Amount": amount,
            "SalesItemLineDetail": {},
        }
        api.post(
            "/invoice", json={"CustomerRef": {"value": "1"}, "DocNumber": f"NE-{amount}", "Line": [line]}
        )
    ours = "DocNumber IN ('NE-40', 'NE-60')"
    found = query(api, f"select * from Invoice where {ours} AND TotalAmt != '40.0'")["Invoice"]
    assert [i["TotalAmt"] for i in found] == [60]


def test_order_by_in_both_spellings(books: httpx.Client) -> None:
    names = {
        spelling: [i["Name"] for i in query(books, f"select * from Item {spelling} Name DESC")["Item"]]
        for spelling in ("ORDERBY", "ORDER BY", "order by")
    }
    assert names["ORDERBY"] == names["ORDER BY"] == names["order by"]
    assert names["ORDERBY"] == sorted(names["ORDERBY"], key=str.casefold, reverse=True)


def test_count_in_and_like(books: httpx.Client) -> None:
    total = query(books, "select count(*) from Item")
    assert set(total) == {"totalCount"} and total["totalCount"] >= 2
    assert query(books, "SELECT COUNT(*) FROM Item WHERE Name IN ('Gravel', 'Rebar', 'Nope')") == {
        "totalCount": 2
    }
    assert [i["Name"] for i in query(books, "select * from Item where Name like 'g%L'")["Item"]] == ["Gravel"]
    assert [i["Name"] for i in query(books, "select * from Item where Name like '%eba%'")["Item"]] == [
        "Rebar"
    ]


def test_startposition_and_maxresults_edges(books: httpx.Client) -> None:
    everything = [i["Id"] for i in query(books, "select * from Item orderby Id")["Item"]]
    first = query(books, "select * from Item orderby Id STARTPOSITION 1 MAXRESULTS 2")
    assert first["startPosition"] == 1 and first["maxResults"] == 2
    assert [i["Id"] for i in first["Item"]] == everything[:2]
    # STARTPOSITION 0 reads as 1.
    zero = query(books, "select * from Item orderby Id STARTPOSITION 0 MAXRESULTS 2")
    assert [i["Id"] for i in zero["Item"]] == everything[:2] and zero["startPosition"] == 1
    last = query(books, f"select * from Item orderby Id STARTPOSITION {len(everything)} MAXRESULTS 5")
    assert [i["Id"] for i in last["Item"]] == everything[-1:] and last["maxResults"] == 1
    assert query(books, f"select * from Item STARTPOSITION {len(everything) + 1}") == {}
    # The numbers are unsigned integers: a sign or a fraction does not parse.
    for bad in ("MAXRESULTS -1", "STARTPOSITION -3", "MAXRESULTS 2.5"):
        error = fault(books.get("/query", params={"query": f"select * from Item {bad}"}))
        assert error["code"] == "4000" and "<INTEGER>" in error["Detail"] and "element" not in error


def test_empty_query_and_unsupported_syntax_are_4000(realm: Client) -> None:
    _, api = realm
    for response in (
        api.get("/query", params={"query": ""}),
        api.get("/query"),
        api.post("/query", content=b"   ", headers={"Content-Type": "application/text"}),
    ):
        error = fault(response)
        assert error["code"] == "4000"
        assert error["Detail"] == "QueryParserError: The query provided was empty"
    # OR is not part of the language (Intuit documents it as unsupported).
    error = fault(api.get("/query", params={"query": "select * from Item where Name = 'a' OR Name = 'b'"}))
    assert error["code"] == "4000"
