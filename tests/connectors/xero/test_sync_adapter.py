"""Xero as the neutral engine's AccountingAdapter, over httpx.MockTransport with the OpenAPI document's
example payloads: mapping an app contact, lookups before create, per-record save results (saved, refused
as a duplicate, deferred by the daily limit), the change feed, a void, and the budget left."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx

from connectors.accounting.adapter import AccountingAdapter, Lookup, Write
from connectors.accounting.outcome import PushResult
from connectors.xero.settings import XeroSettings
from connectors.xero.sync_adapter import XeroSyncAdapter
from sierra_core.db.models import Contact
from tests.connectors.xero.test_client import Xero, _ok, fixture

SETTINGS = XeroSettings(expense_accounts={"materials": "310"})


class Refs:
    """Xero ids of what records depend on."""

    def customer(self, row_label: str, customer_id: uuid.UUID | None) -> str:
        return "c-1"

    def invoice(self, row_label: str, invoice_id: uuid.UUID | None) -> str | None:
        return None


def test_an_app_contact_maps_to_a_xero_contact_and_back() -> None:
    adapter: AccountingAdapter = XeroSyncAdapter(Xero(lambda r: _ok({})).client(), SETTINGS)
    contact = Contact(id=uuid.uuid4(), display_name="Acme Concrete", email="ap@acme.test")
    doc = adapter.to_external("customer", contact, Refs())
    assert doc["Name"] == "Acme Concrete" and doc["EmailAddress"] == "ap@acme.test"
    assert adapter.from_external("customer", doc)["display_name"] == "Acme Concrete"


def test_lookups_find_by_natural_key_and_by_id() -> None:
    contacts = fixture("contacts_get.json")["Contacts"]
    xero = Xero(lambda r: _ok({"Contacts": contacts[:1]}))
    counter = PushResult(dry_run=False)
    found = XeroSyncAdapter(xero.client(), SETTINGS).lookup(
        {
            "customer": Lookup(
                values=frozenset({contacts[0]["Name"]}), ids=frozenset({contacts[0]["ContactID"]})
            )
        },
        counter,
    )
    assert found["customer"].by_value[contacts[0]["Name"]]["ContactID"] == contacts[0]["ContactID"]
    assert contacts[0]["ContactID"] in found["customer"].by_id
    asked = [dict(r.url.params) for r in xero.requests]
    # Names by a `where` (Xero has no list filter of names); ids by `IDs=` (shorter than a `where`).
    assert [a.get("where") for a in asked] == [f'Name=="{contacts[0]["Name"]}"', None]
    assert asked[1]["IDs"] == contacts[0]["ContactID"]
    assert counter.single_requests == 2


def test_invoices_are_looked_up_by_their_numbers_in_one_request() -> None:
    xero = Xero(lambda r: _ok({"Invoices": []}))
    counter = PushResult(dry_run=False)
    numbers = frozenset(str(n) for n in range(1001, 1101))
    XeroSyncAdapter(xero.client(), SETTINGS).lookup({"invoice": Lookup(values=numbers)}, counter)
    [request] = xero.requests
    assert sorted(request.url.params["InvoiceNumbers"].split(",")) == sorted(numbers)
    assert counter.single_requests == 1


def test_a_save_answers_per_record_and_a_taken_name_means_look_it_up_and_link_it() -> None:
    xero = Xero(lambda _: httpx.Response(400, json=fixture("contacts_put_400.json")))
    adapter = XeroSyncAdapter(xero.client(), SETTINGS)
    counter = PushResult(dry_run=False)
    (result,) = adapter.write(
        "customer", [Write("app-9", "create", {"Name": "Buzz Lightyear"}, "r1")], counter
    )
    assert result.key == "app-9" and result.document is None and result.error is not None
    kind = adapter.classify(result.error)
    assert kind.duplicate and not kind.retryable and counter.batch_requests == 1
    sent = json.loads(xero.requests[0].content)
    assert sent == {"Contacts": [{"Name": "Buzz Lightyear"}]}


def test_saved_records_carry_xero_documents_and_a_spent_day_defers_the_rest() -> None:
    saved = fixture("contacts_post.json")

    def answer(request: httpx.Request) -> httpx.Response:
        if len(xero.requests) == 1:
            return _ok(saved)
        return httpx.Response(429, headers={"Retry-After": "3600", "X-Rate-Limit-Problem": "day"})

    xero = Xero(answer)
    adapter = XeroSyncAdapter(xero.client(), SETTINGS)
    counter = PushResult(dry_run=False)
    writes = [Write(f"app-{i}", "create", {"Name": f"C{i}"}, f"r{i}") for i in range(51)]
    results = adapter.write("customer", writes[:1], counter) + adapter.write("customer", writes[1:], counter)
    assert (
        results[0].document is not None
        and results[0].document["ContactID"] == saved["Contacts"][0]["ContactID"]
    )
    assert all(r.error is not None for r in results[1:]) and len(results) == 51
    kind = adapter.classify(results[1].error or Exception())
    assert kind.code == "daily_limit" and kind.budget_resumes_at == datetime(2026, 3, 12, tzinfo=UTC)
    assert adapter.remaining_budget() == 0


def test_the_change_feed_asks_for_what_changed_since_and_marks_deletions() -> None:
    payments = fixture("payments_get.json")["Payments"]
    xero = Xero(
        lambda r: _ok({"Payments": [payments[0], {**payments[0], "PaymentID": "gone", "Status": "DELETED"}]})
    )
    now = datetime(2026, 3, 2, tzinfo=UTC)
    adapter = XeroSyncAdapter(xero.client(), SETTINGS)
    feed = adapter.changes(["payment"], datetime(2026, 3, 1, tzinfo=UTC), now=now)
    assert [(c.external_id, c.deleted) for c in feed.changes] == [
        (payments[0]["PaymentID"], False),
        ("gone", True),
    ]
    assert feed.as_of == now and feed.deletes_complete and feed.requests == 1
    assert xero.requests[0].headers["If-Modified-Since"] == "2026-03-01T00:00:00"
