"""QuickBooks as the neutral engine's AccountingAdapter, over httpx.MockTransport: one batch for several
entity types' lookups, per-record write results, what a fault means, and the requests counted."""

from __future__ import annotations

import json
from typing import Any

import httpx

from connectors.accounting.adapter import AccountingAdapter, Lookup, Write
from connectors.accounting.outcome import PushResult
from connectors.quickbooks.settings import sample_company_settings
from connectors.quickbooks_sync.sync_adapter import QuickBooksSyncAdapter
from tests.connectors.quickbooks.qbo_fakes import json_response, make_client


def _adapter(handler: Any) -> QuickBooksSyncAdapter:
    return QuickBooksSyncAdapter(make_client(handler), sample_company_settings())


def test_lookups_of_several_entity_types_go_in_one_batch() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        answers = []
        for item in body["BatchItemRequest"]:
            if item["bId"].startswith("customer-find"):
                rows = {"Customer": [{"Id": "7", "DisplayName": "Acme", "SyncToken": "0"}]}
            elif item["bId"].startswith("invoice-read"):
                rows = {"Invoice": [{"Id": "42", "DocNumber": "1001", "SyncToken": "3"}]}
            else:
                rows = {}
            answers.append({"bId": item["bId"], "QueryResponse": rows})
        return json_response(200, {"BatchItemResponse": answers})

    counter = PushResult(dry_run=False)
    found = _adapter(handler).lookup(
        {
            "customer": Lookup(values=frozenset({"Acme", "Zed"})),
            "invoice": Lookup(values=frozenset({"1002"}), ids=frozenset({"42"})),
            "payment": Lookup(values=frozenset({"P-1"})),
            "expense": Lookup(),
        },
        counter,
    )
    assert len(seen) == 1 and len(seen[0]["BatchItemRequest"]) == 4  # over 3 queries: one batch
    assert found["customer"].by_value == {"Acme": {"Id": "7", "DisplayName": "Acme", "SyncToken": "0"}}
    assert found["invoice"].by_id["42"]["SyncToken"] == "3" and found["invoice"].by_value == {}
    assert found["payment"].by_value == {} and found["expense"].by_id == {}
    assert (counter.batch_requests, counter.single_requests) == (1, 0)


def test_a_batch_write_answers_per_record_and_a_duplicate_means_link_it() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)["BatchItemRequest"]
        answers: list[dict[str, Any]] = [
            {"bId": items[0]["bId"], "Customer": {"Id": "1", "SyncToken": "0", "DisplayName": "A"}},
            {
                "bId": items[1]["bId"],
                "Fault": {
                    "type": "ValidationFault",
                    "Error": [{"code": "6240", "Message": "Duplicate Name"}],
                },
            },
        ]
        return json_response(200, {"BatchItemResponse": answers})

    adapter = _adapter(handler)
    counter = PushResult(dry_run=False)
    writes = [
        Write("a", "create", {"DisplayName": "A"}, "rid-a"),
        Write("b", "create", {"DisplayName": "B"}, "rid-b"),
    ]
    results = adapter.write("customer", writes, counter)
    assert [r.key for r in results] == ["a", "b"]
    assert results[0].document is not None and results[0].document["Id"] == "1" and results[0].error is None
    assert results[1].document is None and results[1].error is not None
    kind = adapter.classify(results[1].error)
    assert (kind.code, kind.duplicate, kind.retryable) == ("6240", True, False)
    assert (counter.batch_requests, counter.single_requests) == (1, 0)


def test_one_write_goes_as_a_plain_request_and_a_server_fault_is_retryable() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return json_response(400, {"Fault": {"type": "ValidationFault", "Error": [{"code": "2020"}]}})

    adapter = _adapter(handler)
    counter = PushResult(dry_run=False)
    [result] = adapter.write("invoice", [Write("x", "create", {"DocNumber": "9"}, "rid-x")], counter)
    assert paths and paths[0].endswith("/invoice") and result.error is not None
    assert adapter.classify(result.error).retryable is False
    assert adapter.classify(RuntimeError("boom")).code == "unclassified"
    assert (counter.batch_requests, counter.single_requests) == (0, 1)


def test_up_to_three_lookups_go_as_plain_queries() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return json_response(200, {"QueryResponse": {"Customer": [{"Id": "7", "DisplayName": "Acme"}]}})

    counter = PushResult(dry_run=False)
    found = _adapter(handler).lookup({"customer": Lookup(values=frozenset({"Acme"}))}, counter)
    assert found["customer"].by_value["Acme"]["Id"] == "7"
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["query"]
    assert (counter.batch_requests, counter.single_requests) == (0, 1)


def test_it_is_an_accounting_adapter() -> None:
    adapter: AccountingAdapter = _adapter(lambda request: json_response(200, {}))
    assert adapter.title == "QuickBooks" and adapter.remaining_budget() is None
