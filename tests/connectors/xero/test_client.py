"""The Xero client against httpx.MockTransport answering with the OpenAPI document's example payloads:
paging and If-Modified-Since, batch outcomes, Idempotency-Keys, rate limits (minute waits, day defers),
voids, attachments and error messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.kit.ratelimit import ChainedLimiter, Limits, RealmLimiter
from connectors.kit.retry import RetryPolicy
from connectors.xero.client import XeroClient, xero_limiter
from connectors.xero.errors import AuthenticationError, ForbiddenError, ValidationError
from connectors.xero.outcomes import BatchRecord, DailyBudgetExhausted, Rejected, Saved
from tests import fixtures

TENANT = "fe79f7dd-b6d4-4a92-ba7b-538af6289c58"
NOW = datetime(2026, 3, 11, 15, 30, tzinfo=UTC)
FIX = fixtures.ROOT / "xero"


def fixture(name: str) -> Any:
    return json.loads((FIX / name).read_text())


class Tokens:
    """A fixed access token (the kit's DbTokenSource is tested on its own)."""

    def access_token(self) -> str:
        return "xero-access-secret-value"

    def refresh_after_401(self, rejected_token: str) -> str:
        return "xero-access-secret-value"


class Xero:
    """Records requests; answers each with `handler(request)`."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def client(self, naps: list[float] | None = None, **kw: Any) -> XeroClient:
        sleep = naps.append if naps is not None else lambda _: None
        return XeroClient(
            "https://api.xero.com/api.xro/2.0",
            TENANT,
            Tokens(),
            transport=httpx.MockTransport(self),
            retry=RetryPolicy(sleep=sleep, jitter=0),
            clock=lambda: NOW,
            **kw,
        )


def _ok(doc: Any, **headers: str) -> httpx.Response:
    return httpx.Response(200, json=doc, headers={"X-DayLimit-Remaining": "4000", **headers})


def test_pull_pages_by_100_until_a_short_page_with_if_modified_since_where_and_order():
    first = fixture("invoices_get.json")
    template = first["Invoices"][2]
    full = [{**template, "InvoiceID": f"00000000-0000-0000-0000-{i:012d}"} for i in range(100)]

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return _ok({**first, "Invoices": full if page == 1 else first["Invoices"]})

    xero = Xero(answer)
    with xero.client() as client:
        since = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
        rows = list(
            client.pull("Invoices", modified_since=since, where='Type=="ACCREC"', order="UpdatedDateUTC")
        )
    assert len(rows) == 103 and [r.url.params["page"] for r in xero.requests] == ["1", "2"]
    sent = xero.requests[0]
    assert (
        sent.headers["xero-tenant-id"] == TENANT
        and sent.headers["If-Modified-Since"] == "2026-03-01T08:00:00"
    )
    assert sent.url.params["where"] == 'Type=="ACCREC"' and sent.url.params["order"] == "UpdatedDateUTC"
    assert sent.headers["authorization"] == "Bearer xero-access-secret-value"
    assert all(isinstance(r["Total"], Decimal) for r in rows)  # money is never a float


def test_unpaged_collections_are_read_in_one_call():
    xero = Xero(lambda _: _ok(fixture("accounts_get.json")))
    with xero.client() as client:
        accounts = list(client.pull("Accounts"))
    assert [a["Code"] for a in accounts] == ["091", "200"]
    assert len(xero.requests) == 1 and "page" not in xero.requests[0].url.params


def test_a_batch_saves_with_summarize_errors_false_and_reads_each_element():
    saved = fixture("contacts_post.json")
    refused = fixture("bank_transactions_put_errors.json")
    xero = Xero(lambda r: _ok(saved if r.url.path.endswith("Contacts") else refused))
    with xero.client() as client:
        contacts = client.save("Contacts", [BatchRecord("app-1", {"Name": "Bruce Banner"}, 3)])
        spends = client.save("BankTransactions", [BatchRecord("exp-1", {"Type": "SPEND"}, 1)])
    (contact,) = contacts
    assert isinstance(contact, Saved) and contact.created and contact.key == "app-1"
    assert contact.xero_id == saved["Contacts"][0]["ContactID"]
    assert spends == [
        Rejected(
            "exp-1",
            (
                "The Contact must contain at least 1 of the following elements to identify the contact: "
                "Name, ContactID, ContactNumber",
            ),
        )
    ]
    first = xero.requests[0]
    assert first.method == "POST" and first.url.params["summarizeErrors"] == "false"
    assert json.loads(first.content) == {"Contacts": [{"Name": "Bruce Banner"}]}
    keys = {r.headers["Idempotency-Key"] for r in xero.requests}
    assert len(keys) == 2


def test_a_validation_exception_maps_its_elements_to_the_records():
    xero = Xero(lambda _: httpx.Response(400, json=fixture("contacts_put_400.json")))
    with xero.client() as client:
        (outcome,) = client.save("Contacts", [BatchRecord("app-9", {"Name": "Buzz Lightyear"})])
    assert isinstance(outcome, Rejected) and "already assigned to another contact" in outcome.messages[0]


def test_retries_resend_the_same_idempotency_key_and_a_minute_429_waits_retry_after():
    answers = [
        httpx.Response(503),
        httpx.Response(429, headers={"Retry-After": "7", "X-Rate-Limit-Problem": "minute"}),
        _ok(
            fixture("contacts_post.json"), **{"X-MinLimit-Remaining": "58", "X-AppMinLimit-Remaining": "9990"}
        ),
    ]
    xero, naps = Xero(lambda _: answers.pop(0)), list[float]()
    tenant = RealmLimiter(TENANT, Limits(60, 5, 0))
    with xero.client(naps, limiter=ChainedLimiter(tenant, RealmLimiter("app", Limits(10_000, 0, 0)))) as c:
        (outcome,) = c.save("Contacts", [BatchRecord("app-1", {"Name": "Bruce Banner"})])
        assert c.remaining is not None and (c.remaining.minute, c.remaining.app_minute) == (58, 9990)
    assert isinstance(outcome, Saved)
    assert len({r.headers["Idempotency-Key"] for r in xero.requests}) == 1 and len(xero.requests) == 3
    assert naps[1] == 7.0 and tenant._paused_until > 0


def test_the_day_limit_defers_the_rest_of_the_batch_to_the_next_utc_day_and_stops_calling():
    calls = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return _ok(
                fixture("contacts_post.json")
                | {"Contacts": [fixture("contacts_post.json")["Contacts"][0]] * 2}
            )
        return httpx.Response(429, headers={"Retry-After": "3600", "X-Rate-Limit-Problem": "day"})

    records = [BatchRecord(f"app-{i}", {"Name": f"Contact {i}"}) for i in range(5)]
    xero = Xero(answer)
    with xero.client() as client:
        outcomes = client.save("Contacts", records, batch_size=2)
        later = client.save("Contacts", records[:1])
    assert [type(o).__name__ for o in outcomes] == ["Saved", "Saved"] + ["DailyBudgetExhausted"] * 3
    deferred = outcomes[2]
    assert isinstance(deferred, DailyBudgetExhausted)
    assert deferred.resume_at == datetime(2026, 3, 12, tzinfo=UTC)
    assert "daily allowance" in deferred.message and "nothing failed" in deferred.message
    assert isinstance(later[0], DailyBudgetExhausted) and len(calls) == 2  # no call once the day is spent


def test_a_spent_day_count_stops_calls_before_any_429():
    xero = Xero(lambda _: _ok(fixture("accounts_get.json"), **{"X-DayLimit-Remaining": "0"}))
    with xero.client() as client:
        list(client.pull("Accounts"))
        (outcome,) = client.save("Contacts", [BatchRecord("app-1", {"Name": "A"})])
    assert isinstance(outcome, DailyBudgetExhausted) and len(xero.requests) == 1


@pytest.mark.parametrize(
    ("status", "target"), [("AUTHORISED", "VOIDED"), ("DRAFT", "DELETED"), ("SUBMITTED", "DELETED")]
)
def test_invoices_end_as_xero_allows(status, target):
    updated = fixture("invoice_update.json")
    xero = Xero(lambda _: _ok(updated))
    with xero.client() as client:
        client.void_invoice({"InvoiceID": "inv-1", "Status": status, "AmountPaid": 0})
    (request,) = xero.requests
    assert request.url.path.endswith("/Invoices/inv-1") and request.headers["Idempotency-Key"]
    assert json.loads(request.content) == {"Invoices": [{"InvoiceID": "inv-1", "Status": target}]}


def test_a_paid_invoice_is_not_voided_and_no_call_is_made():
    xero = Xero(lambda _: _ok({}))
    paid = fixture("invoices_get.json")["Invoices"][1]
    with xero.client() as client, pytest.raises(ValidationError, match="remove its payments"):
        client.void_invoice(paid)
    assert xero.requests == []


def test_the_invoice_pdf_goes_up_as_an_attachment():
    xero = Xero(lambda _: _ok(fixture("invoice_attachment_put.json")))
    with xero.client() as client:
        attachment = client.attach_invoice_pdf("inv-1", "INV-0001.pdf", b"%PDF-1.7 test")
        with pytest.raises(ValueError, match="not a PDF"):
            client.attach_invoice_pdf("inv-1", "x.pdf", b"<html>")
    (request,) = xero.requests
    assert request.method == "PUT" and request.url.path.endswith("/Invoices/inv-1/Attachments/INV-0001.pdf")
    assert (
        request.headers["content-type"] == "application/pdf" and request.url.params["IncludeOnline"] == "true"
    )
    assert attachment["AttachmentID"]


def test_refusals_name_what_to_do_and_never_the_token():
    xero = Xero(
        lambda r: httpx.Response(
            401 if "Contacts" in r.url.path else 403, json={"Detail": "AuthorizationUnsuccessful"}
        )
    )
    with xero.client() as client:
        with pytest.raises(AuthenticationError, match="reconnect Xero") as auth:
            list(client.pull("Contacts"))
        with pytest.raises(ForbiddenError, match="AuthorizationUnsuccessful"):
            list(client.pull("Accounts"))
    assert "xero-access-secret-value" not in str(auth.value) and "xero-access" not in repr(auth.value)


def test_the_declared_budgets_become_the_tenant_and_app_limiters():
    chain = xero_limiter("org-limits")
    tenant, app = chain.limiters
    assert isinstance(tenant, RealmLimiter) and tenant.limits == Limits(60, 5, 0)
    assert isinstance(app, RealmLimiter) and app.limits.requests_per_minute == 10_000
