"""Batch: chunks of 30, per-item results (entity, QueryResponse, classified Fault), batch budget."""

from __future__ import annotations

import json
from contextlib import nullcontext
from decimal import Decimal

import httpx
import pytest

from connectors.quickbooks import errors
from connectors.quickbooks.batch import BatchItem, chunk_request_id, chunks, parse_response
from connectors.quickbooks.query import select
from tests.connectors.quickbooks.qbo_fakes import fixture, fixture_bytes, json_response, make_client


def doc_sample_items() -> list[BatchItem]:
    return [
        BatchItem.create("bid1", "Vendor", {"DisplayName": "Smith Family Store"}, request_id="r1"),
        BatchItem.delete("bid2", "Invoice", "129", "0", request_id="r2"),
        BatchItem.update(
            "bid3",
            "SalesReceipt",
            {"Id": "11", "SyncToken": "0", "PrivateNote": "A private note."},
            request_id="r3",
        ),
        BatchItem.select("bid4", "select * from SalesReceipt where TotalAmt > '300.00'"),
    ]


def test_mixed_faults_doc_sample_per_item():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=fixture_bytes("batch_mixed_faults_doc_sample.json"))

    with make_client(handler) as qbo:
        results = qbo.batch(doc_sample_items())
    assert [r.bid for r in results] == ["bid1", "bid2", "bid3", "bid4"]
    assert isinstance(results[0].error, errors.DuplicateNameError)
    assert isinstance(results[1].error, errors.ObjectNotFoundError)
    assert isinstance(results[2].error, errors.StaleObjectError)
    assert results[3].ok
    assert "bId bid1" in str(results[0].error)
    rows = results[3].rows()
    assert rows
    assert isinstance(rows[0]["TotalAmt"], Decimal)
    sent = json.loads(seen[0].content)
    expected = fixture("batch_mixed_faults_doc_sample.json")["request"]["body"]["BatchItemRequest"]
    assert sent["BatchItemRequest"][0] == expected[0]
    assert sent["BatchItemRequest"][1] == expected[1]
    assert sent["BatchItemRequest"][3] == expected[3]
    assert seen[0].url.path.endswith("/batch")
    assert len(seen[0].url.params["requestid"]) <= 36


def test_real_capture_create_result():
    item = BatchItem.create("0", "Invoice", {"CustomerRef": {"value": "59"}}, request_id="r")
    data = json.loads(fixture_bytes("invoice_create.json"), parse_float=Decimal)
    (result,) = parse_response([item], data)
    assert result.ok
    assert result.entity is not None
    assert str(result.entity["TotalAmt"]) == "119.60"


def test_item_missing_from_answer_is_a_retryable_error():
    items = doc_sample_items()[:2]
    results = parse_response(items, {"BatchItemResponse": [{"bId": "bid1", "Vendor": {"Id": "5"}}]})
    assert results[0].entity == {"Id": "5"}
    assert isinstance(results[1].error, errors.ServerError)
    assert results[1].error.retryable


def test_empty_batch_fixture():
    assert parse_response([], json.loads(fixture_bytes("batch_empty.json"))) == []


def test_65_items_go_as_30_30_5_each_counted_as_a_batch_request():
    calls: list[int] = []

    class Limiter:
        def __init__(self) -> None:
            self.batch_flags: list[bool] = []

        def acquire(self, *, batch: bool = False):
            self.batch_flags.append(batch)
            return nullcontext()

    def handler(request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)["BatchItemRequest"]
        calls.append(len(items))
        return json_response(
            200, {"BatchItemResponse": [{"bId": i["bId"], "Customer": {"Id": i["bId"]}} for i in items]}
        )

    items = [
        BatchItem.create(f"b{i}", "Customer", {"DisplayName": f"C{i}"}, request_id=f"r{i}") for i in range(65)
    ]
    limiter = Limiter()
    with make_client(handler, limiter=limiter) as qbo:
        results = qbo.batch(items)
    assert calls == [30, 30, 5]
    assert limiter.batch_flags == [True, True, True]
    assert [r.entity["Id"] for r in results if r.entity] == [f"b{i}" for i in range(65)]


def test_chunk_requestids_are_deterministic_and_distinct():
    items = [BatchItem.create(f"b{i}", "Customer", {}, request_id=f"r{i}") for i in range(40)]
    first, second = chunks(items)
    assert chunk_request_id(first, None, 0) == chunk_request_id(list(first), None, 0)
    assert chunk_request_id(first, None, 0) != chunk_request_id(second, None, 1)
    assert chunk_request_id(first, "run-1", 0) != chunk_request_id(first, "run-1", 1)
    assert chunk_request_id([BatchItem.select("q", select("Item"))], None, 0) is None


def test_a_batch_retried_after_a_dropped_answer_keeps_its_requestid():
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params["requestid"])
        if len(seen) == 1:
            raise httpx.RemoteProtocolError("connection closed mid-body")
        return json_response(200, {"BatchItemResponse": [{"bId": "b0", "Customer": {"Id": "1"}}]})

    with make_client(handler) as qbo:
        (result,) = qbo.batch([BatchItem.create("b0", "Customer", {"DisplayName": "X"}, request_id="r0")])
    assert result.ok
    assert seen[0] == seen[1]


@pytest.mark.parametrize(
    "items",
    [
        [BatchItem("a", "create", "Customer", {"DisplayName": "x"})],  # no request_id on a write
        [BatchItem("a", "merge", "Customer", {}, request_id="r")],
        [BatchItem.select("a", "select * from Item"), BatchItem.select("a", "select * from Item")],
        [BatchItem("", "query", query="select * from Item")],
    ],
)
def test_bad_items_are_refused_before_sending(items):
    with pytest.raises(ValueError, match=r"bId|request_id|operation"):
        list(chunks(items))


def test_query_item_from_builder():
    item = BatchItem.select("q1", select("Customer", "Id").where("DisplayName", "=", "O'Brien"))
    assert item.to_json() == {
        "bId": "q1",
        "Query": "SELECT Id FROM Customer WHERE DisplayName = 'O\\'Brien' STARTPOSITION 1 MAXRESULTS 1000",
    }
