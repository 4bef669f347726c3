"""CDC reader: the 1000-object cap, the 30-day window, de-duplication and deleted markers."""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from connectors.quickbooks.cdc import changed_since, last_updated, query_responses
from connectors.quickbooks.query import Select
from tests.connectors.quickbooks.qbo_fakes import fixture_bytes, json_response, make_client

NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
OPS = {">=": operator.ge, "<": operator.lt, ">": operator.gt, "<=": operator.le, "=": operator.eq}


def obj(oid: int, at: datetime, deleted: bool = False) -> dict[str, Any]:
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "-00:00"
    if deleted:
        return {"status": "Deleted", "domain": "QBO", "Id": str(oid), "MetaData": {"LastUpdatedTime": stamp}}
    return {"Id": str(oid), "SyncToken": "0", "MetaData": {"LastUpdatedTime": stamp}}


class FakeCdc:
    """CDC like QBO: objects changed at or after `since`, oldest first, at most `cap` in all; plus query."""

    def __init__(
        self,
        data: dict[str, list[dict[str, Any]]],
        cap: int = 1000,
        window_days: int = 30,
        first_entity_first: bool = False,
    ) -> None:
        self.data = data
        self.first_entity_first = first_entity_first  # the cap used up in entity order (as the sandbox does)
        self.cap = cap
        self.window = timedelta(days=window_days)
        self.cdc_calls: list[tuple[tuple[str, ...], datetime]] = []
        self.queries: list[Select] = []

    def cdc_page(self, entities: Sequence[str], since: datetime) -> list[dict[str, Any]]:
        assert since >= NOW - self.window, "changedSince older than 30 days is refused by QBO"
        self.cdc_calls.append((tuple(entities), since))
        order = (
            {e: i for i, e in enumerate(entities)} if self.first_entity_first else dict.fromkeys(entities, 0)
        )
        found = sorted(
            ((last_updated(o), e, o) for e in entities for o in self.data.get(e, [])),
            key=lambda t: (order[t[1]], t[0], t[1], int(t[2]["Id"])),
        )
        found = [t for t in found if t[0] is not None and t[0] >= since][: self.cap]
        out: list[dict[str, Any]] = []
        for entity in entities:
            rows = [o for _, e, o in found if e == entity]
            out.append({entity: rows, "startPosition": 1, "maxResults": len(rows)})
        return out

    def query_all(
        self, query: Select, *, page_size: int = 1000, max_pages: int = 10_000
    ) -> Iterator[dict[str, Any]]:
        self.queries.append(query)
        for o in self.data.get(query.entity, []):
            if o.get("status") == "Deleted":
                continue  # queries never return deleted objects
            t = last_updated(o)
            assert t is not None
            if all(c.field == "MetaData.LastUpdatedTime" and OPS[c.op](t, c.value) for c in query.conditions):
                yield o


def test_doc_sample_is_parsed_with_deleted_markers():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["entities"] == "Customer,Estimate"
        assert request.url.params["changedSince"] == "2025-06-01T00:00:00+00:00"
        return httpx.Response(200, content=fixture_bytes("cdc_sample.json"))

    with make_client(handler) as qbo:
        changes = qbo.cdc(["Customer", "Estimate"], datetime(2025, 6, 1, tzinfo=UTC), now=NOW)
    assert sorted(o["Id"] for o in changes.changed("Customer")) == ["63", "99"]
    assert sorted(o["Id"] for o in changes.changed("Estimate")) == ["123", "34"]
    assert [o["Id"] for o in changes.deleted("Estimate")] == ["979"]
    assert changes.as_of == NOW
    assert changes.deletes_complete


def test_query_responses_of_the_sample():
    import json

    data = json.loads(fixture_bytes("cdc_sample.json"))
    assert len(query_responses(data)) == 2


@pytest.mark.parametrize("first_entity_first", [False, True])
def test_more_than_the_cap_loses_nothing(first_entity_first):
    base = NOW - timedelta(days=2)
    invoices = [obj(i, base + timedelta(seconds=i // 3)) for i in range(1, 2501)]  # 3 changes per second
    customers = [obj(10_000 + i, base + timedelta(seconds=i)) for i in range(400)]
    customers.append(obj(20_000, base + timedelta(seconds=5), deleted=True))
    fake = FakeCdc({"Invoice": invoices, "Customer": customers}, first_entity_first=first_entity_first)
    changes = changed_since(fake, ["Invoice", "Customer"], base - timedelta(hours=1), now=NOW)
    assert len(changes.changed("Invoice")) == 2500
    assert len(changes.changed("Customer")) == 400
    assert [o["Id"] for o in changes.deleted("Customer")] == ["20000"]
    assert len(fake.cdc_calls) >= 3
    assert changes.deletes_complete
    assert fake.queries == []


def test_cap_hit_within_one_second_splits_entities_then_queries():
    second = NOW - timedelta(days=1)
    invoices = [obj(i, second) for i in range(1, 1201)]  # 1200 changes in one second: more than the cap
    invoices += [obj(5000 + i, second + timedelta(seconds=1 + i)) for i in range(10)]
    payments = [obj(9000 + i, second) for i in range(5)]
    fake = FakeCdc({"Invoice": invoices, "Payment": payments})
    changes = changed_since(fake, ["Invoice", "Payment"], second, now=NOW)
    assert len(changes.changed("Invoice")) == 1210
    assert len(changes.changed("Payment")) == 5
    assert len(fake.queries) == 1
    assert fake.queries[0].entity == "Invoice"
    assert not changes.deletes_complete  # deletions beyond the cap in that second cannot be listed


def test_older_than_30_days_falls_back_to_query_then_cdc_for_deletions():
    old = NOW - timedelta(days=90)
    invoices = [obj(i, old + timedelta(days=i)) for i in range(1, 80)]
    invoices.append(obj(500, NOW - timedelta(days=3), deleted=True))
    fake = FakeCdc({"Invoice": invoices})
    changes = changed_since(fake, ["Invoice"], old, now=NOW)
    assert len(changes.changed("Invoice")) == 79
    assert [o["Id"] for o in changes.deleted("Invoice")] == ["500"]
    assert len(fake.queries) == 1
    assert fake.cdc_calls[0][1] > NOW - timedelta(days=30)
    assert not changes.deletes_complete


def test_latest_version_wins_on_duplicates():
    t0 = NOW - timedelta(days=1)
    later_delete = obj(7, t0 + timedelta(seconds=5), deleted=True)
    fake = FakeCdc({"Invoice": [obj(7, t0), later_delete]})
    changes = changed_since(fake, ["Invoice"], t0, now=NOW)
    assert changes.changed("Invoice") == []
    assert changes.deleted("Invoice") == [later_delete]


def test_naive_since_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        changed_since(FakeCdc({}), ["Invoice"], datetime(2025, 6, 1), now=NOW)


def test_qbo_refusing_an_old_since_falls_back_to_query():
    """Our clock thinks `since` is inside the window, QBO's does not (2010 on changedSince)."""
    t0 = NOW - timedelta(days=20)
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path.rsplit("/", 1)[1])
        if request.url.path.endswith("/cdc"):
            return json_response(
                400,
                {
                    "Fault": {
                        "Error": [
                            {
                                "Message": "Request has invalid or unsupported property",
                                "Detail": "Property Name:changedSince must be within the last 30 days",
                                "code": "2010",
                                "element": "changedSince",
                            }
                        ],
                        "type": "ValidationFault",
                    }
                },
            )
        return json_response(
            200, {"QueryResponse": {"Invoice": [obj(1, t0)], "startPosition": 1, "maxResults": 1}}
        )

    with make_client(handler) as qbo:
        changes = qbo.cdc(["Invoice"], t0, now=NOW)
    assert [o["Id"] for o in changes.changed("Invoice")] == ["1"]
    assert not changes.deletes_complete
    assert calls == ["cdc", "query", "cdc"]
