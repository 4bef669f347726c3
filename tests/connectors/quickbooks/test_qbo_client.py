"""QuickBooksClient over httpx.MockTransport: URLs, bodies, requestids, retries and what is never retried."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

import httpx
import pytest

from connectors.quickbooks import errors
from connectors.quickbooks.client import QuickBooksClient, RetryPolicy, make_request_id, validate_base_url
from connectors.quickbooks.query import select
from tests.connectors.quickbooks.qbo_fakes import (
    BASE,
    REALM,
    FakeTokens,
    Sleeps,
    fixture,
    fixture_bytes,
    json_response,
    make_client,
)

XML_THROTTLE = (
    b'<IntuitResponse xmlns="http://schema.intuit.com/finance/v3"><Fault type="SERVICE"><Error code="3001">'
    b"<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message></Error></Fault>"
    b"</IntuitResponse>"
)


# ---------------------------------------------------------------- base URL and ids


@pytest.mark.parametrize(
    "url",
    [
        "https://quickbooks.api.intuit.com",
        "https://sandbox-quickbooks.api.intuit.com/",
        "http://127.0.0.1:8701",
        "http://localhost:8701",
        "http://[::1]:8701",
    ],
)
def test_accepted_base_urls(url):
    assert validate_base_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://quickbooks.api.intuit.com",
        "http://10.0.0.5:8701",
        "ftp://x",
        "https://user:pw@host",
        "nonsense",
    ],
)
def test_refused_base_urls(url):
    with pytest.raises(errors.BaseURLError) as info:
        validate_base_url(url)
    assert isinstance(info.value, ValueError)
    assert "pw" not in str(info.value)


def test_bad_realm_is_refused_before_any_request():
    with pytest.raises(ValueError, match="realm"):
        QuickBooksClient(BASE, "123/../456", FakeTokens())


def test_make_request_id_is_deterministic_and_short():
    a = make_request_id(7, "Invoice", 42, 3, "create")
    assert a == make_request_id(7, "invoice", 42, 3, "CREATE")
    assert len(a) == 36
    assert a != make_request_id(7, "Invoice", 42, 4, "create")
    assert a != make_request_id(8, "Invoice", 42, 3, "create")
    assert a != make_request_id(7, "Invoice", 42, 3, "delete")


# ---------------------------------------------------------------- requests on the wire


class Recorder:
    """A handler that records requests and answers from a list (the last answer repeats)."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.bearers: list[str] = []  # the request object is re-sent after a refresh: record the value

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.bearers.append(request.headers.get("Authorization", ""))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_read_sends_minorversion_accept_and_bearer():
    rec = Recorder(httpx.Response(200, content=fixture_bytes("invoice_read_doc_sample.json")))
    with make_client(rec) as qbo:
        invoice = qbo.read("Invoice", "130")
    assert invoice["Id"] == "130"
    req = rec.requests[0]
    assert req.method == "GET"
    assert req.url.path == f"/v3/company/{REALM}/invoice/130"
    assert req.url.params["minorversion"] == "75"
    assert req.headers["Accept"] == "application/json"
    assert req.headers["Authorization"] == "Bearer tok-0"
    assert isinstance(invoice["TotalAmt"], Decimal)


def test_create_posts_exact_money_with_requestid():
    doc = fixture("invoice_create_doc_sample.json")
    rec = Recorder(httpx.Response(200, content=fixture_bytes("invoice_create_doc_sample.json")))
    body = {
        "CustomerRef": {"value": "1"},
        "Line": [{"Amount": Decimal("100.10"), "DetailType": "SalesItemLineDetail"}],
    }
    rid = make_request_id(1, "Invoice", 9, 1, "create")
    with make_client(rec) as qbo:
        created = qbo.create("Invoice", body, request_id=rid)
    assert created["Id"] == doc["response"]["body"]["Invoice"]["Id"]
    req = rec.requests[0]
    assert req.method == "POST"
    assert req.url.path == f"/v3/company/{REALM}/invoice"
    assert req.url.params["requestid"] == rid
    assert req.url.params["minorversion"] == "75"
    assert req.headers["Content-Type"] == "application/json"
    assert b'"Amount":100.10' in req.content


def test_update_is_sparse_and_needs_id_and_synctoken():
    rec = Recorder(json_response(200, {"Invoice": {"Id": "5", "SyncToken": "1"}, "time": "t"}))
    with make_client(rec) as qbo:
        with pytest.raises(ValueError, match="SyncToken"):
            qbo.update("Invoice", {"Id": "5"}, request_id="r1")
        updated = qbo.update("Invoice", {"Id": "5", "SyncToken": "0", "PrivateNote": "x"}, request_id="r1")
    assert updated["SyncToken"] == "1"
    sent = json.loads(rec.requests[0].content)
    assert sent == {"Id": "5", "SyncToken": "0", "PrivateNote": "x", "sparse": True}


@pytest.mark.parametrize(
    ("operation", "name"),
    [("delete", "invoice_delete_doc_sample.json"), ("void", "invoice_void_doc_sample.json")],
)
def test_delete_and_void(operation, name):
    rec = Recorder(httpx.Response(200, content=fixture_bytes(name)))
    with make_client(rec) as qbo:
        result = getattr(qbo, operation)("Invoice", "33", "3", request_id="rid-1")
    req = rec.requests[0]
    assert req.url.params["operation"] == operation
    assert "include" not in req.url.params
    assert req.url.params["requestid"] == "rid-1"
    assert json.loads(req.content) == {"Id": "33", "SyncToken": "3"}
    if operation == "delete":
        assert result["status"] == "Deleted"


@pytest.mark.parametrize("entity", ["Payment", "SalesReceipt", "BillPayment"])
def test_payments_and_receipts_are_voided_by_a_sparse_update_with_include_void(entity):
    # Intuit documents these voids as `operation=update&include=void` with a sparse body, not operation=void.
    rec = Recorder(json_response(200, {entity: {"Id": "7", "SyncToken": "2", "TotalAmt": 0}}))
    with make_client(rec) as qbo:
        voided = qbo.void(entity, "7", "1", request_id="rid-v")
    req = rec.requests[0]
    assert req.url.path.endswith(f"/{entity.lower()}")
    assert (req.url.params["operation"], req.url.params["include"]) == ("update", "void")
    assert json.loads(req.content) == {"Id": "7", "SyncToken": "1", "sparse": True}
    assert voided["SyncToken"] == "2"


def test_a_write_without_requestid_is_refused():
    rec = Recorder(json_response(200, {}))
    with make_client(rec) as qbo, pytest.raises(ValueError, match="requestid"):
        qbo.request("POST", "invoice", json={"x": 1})
    assert rec.requests == []


def test_too_long_requestid_is_refused():
    with make_client(Recorder(json_response(200, {}))) as qbo, pytest.raises(ValueError, match="requestid"):
        qbo.create("Invoice", {}, request_id="x" * 51)


def test_short_query_is_get_long_query_is_post_text():
    rec = Recorder(httpx.Response(200, content=fixture_bytes("query_invoice_doc_sample.json")))
    with make_client(rec) as qbo:
        short = qbo.query("select * from Invoice where id = '239'")
        long_q = str(select("Invoice").where("DocNumber", "IN", [f"DOC-{i:05d}" for i in range(150)]))
        qbo.query(long_q)
    assert short["Invoice"][0]["Id"] == "239"
    get, post = rec.requests
    assert get.method == "GET"
    assert get.url.params["query"] == "select * from Invoice where id = '239'"
    assert post.method == "POST"
    assert post.headers["Content-Type"] == "application/text"
    assert post.content.decode() == long_q
    assert "requestid" not in post.url.params


def test_empty_query_response():
    rec = Recorder(json_response(200, {"QueryResponse": {}, "time": "t"}))
    with make_client(rec) as qbo:
        assert qbo.query("select * from Invoice where DocNumber = 'none'") == {}


# ---------------------------------------------------------------- retries


def test_5xx_then_success_retries_with_backoff():
    sleeps = Sleeps()
    rec = Recorder(httpx.Response(503), httpx.Response(500), json_response(200, {"Invoice": {"Id": "1"}}))
    with make_client(rec, sleeps=sleeps) as qbo:
        assert qbo.read("Invoice", "1")["Id"] == "1"
    assert len(rec.requests) == 3
    assert sleeps.calls == [1.0, 2.0]


def test_backoff_is_1_2_4_with_jitter_then_gives_up():
    sleeps = Sleeps()
    rec = Recorder(httpx.Response(502))
    qbo = QuickBooksClient(
        BASE,
        REALM,
        FakeTokens(),
        transport=httpx.MockTransport(rec),
        retry=RetryPolicy(max_attempts=4, jitter=0.5, sleep=sleeps),
    )
    with qbo, pytest.raises(errors.ServerError) as info:
        qbo.read("Invoice", "1")
    assert info.value.status == 502
    assert len(rec.requests) == 4
    assert [int(s) for s in sleeps.calls] == [1, 2, 4]
    assert all(0 <= s - b <= 0.5 for s, b in zip(sleeps.calls, [1, 2, 4], strict=True))


def test_429_waits_60s_by_default_and_honours_retry_after():
    sleeps = Sleeps()
    rec = Recorder(
        httpx.Response(429, content=XML_THROTTLE, headers={"Content-Type": "application/xml"}),
        httpx.Response(429, content=XML_THROTTLE, headers={"Retry-After": "5"}),
        json_response(200, {"Invoice": {"Id": "1"}}),
    )
    with make_client(rec, sleeps=sleeps) as qbo:
        qbo.read("Invoice", "1")
    assert sleeps.calls == [60.0, 5.0]


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        httpx.ReadError("reset"),
    ],
)
def test_network_errors_are_retried_with_the_same_requestid(exc):
    rec = Recorder(exc, json_response(200, {"Invoice": {"Id": "9"}}))
    with make_client(rec) as qbo:
        created = qbo.create("Invoice", {"Line": []}, request_id="same-id")
    assert created["Id"] == "9"
    assert [r.url.params["requestid"] for r in rec.requests] == ["same-id", "same-id"]
    assert rec.requests[0].content == rec.requests[1].content


def test_network_error_exhausted_is_a_retryable_network_error():
    rec = Recorder(httpx.ConnectTimeout("no route"))
    with make_client(rec, max_attempts=2) as qbo, pytest.raises(errors.NetworkError) as info:
        qbo.read("Invoice", "1")
    assert info.value.retryable is True
    assert len(rec.requests) == 2


@pytest.mark.parametrize(
    "name", ["fault_5010_stale.json", "fault_610_not_found.json", "fault_2020_required.json"]
)
def test_terminal_faults_are_not_retried(name):
    sleeps = Sleeps()
    rec = Recorder(httpx.Response(400, content=fixture_bytes(name)))
    with make_client(rec, sleeps=sleeps) as qbo, pytest.raises(errors.QuickBooksError) as info:
        qbo.update("Item", {"Id": "1", "SyncToken": "0"}, request_id="r")
    assert info.value.retryable is False
    assert info.value.request_id == "r"
    assert len(rec.requests) == 1
    assert sleeps.calls == []


def test_401_refreshes_once_then_authentication_error():
    tokens = FakeTokens()
    body = (
        b'{"fault":{"error":[{"message":"message=AuthenticationFailed; errorCode=003200; statusCode=401",'
        b'"code":"3200"}],"type":"AUTHENTICATION"}}'
    )
    rec = Recorder(httpx.Response(401, content=body))
    with make_client(rec, tokens=tokens) as qbo, pytest.raises(errors.AuthenticationError):
        qbo.read("Invoice", "1")
    assert tokens.refreshes == 1
    assert rec.bearers == ["Bearer tok-0", "Bearer tok-1"]


def test_401_then_success_after_refresh():
    tokens = FakeTokens()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer tok-0":
            return httpx.Response(401, content=b'{"fault":{"error":[{"code":"3200"}]}}')
        return json_response(200, {"Invoice": {"Id": "1"}})

    with make_client(handler, tokens=tokens) as qbo:
        assert qbo.read("Invoice", "1") == {"Id": "1"}
    assert tokens.refreshes == 1


def test_fault_in_200_on_a_write_raises():
    rec = Recorder(httpx.Response(200, content=fixture_bytes("fault_2020_required.json")))
    with make_client(rec) as qbo, pytest.raises(errors.ValidationError):
        qbo.create("Item", {"Type": "Service"}, request_id="r")


def test_retries_are_logged_redacted_without_the_token(caplog):
    rec = Recorder(httpx.Response(503), json_response(200, {"Invoice": {"Id": "1"}}))
    tokens = FakeTokens(token="eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtdG9rZW4ifQ.c2lnbmF0dXJlc2ln")
    with caplog.at_level(logging.DEBUG), make_client(rec, tokens=tokens) as qbo:
        qbo.read("Invoice", "1")
    retry_lines = [r for r in caplog.records if r.name == "sierra_sync.qbo" and r.levelno == logging.WARNING]
    assert len(retry_lines) == 1
    text = retry_lines[0].getMessage()
    assert "ServerError" in text
    assert "HTTP 503" in text
    assert f"/v3/company/{REALM}/invoice/1" in text
    for record in caplog.records:
        assert tokens.token not in record.getMessage()
        assert "eyJhbGci" not in record.getMessage()


def test_limiter_is_entered_around_each_attempt():
    class CountingLimiter:
        def __init__(self) -> None:
            self.calls: list[bool] = []

        def acquire(self, *, batch: bool = False):
            from contextlib import nullcontext

            self.calls.append(batch)
            return nullcontext()

    limiter = CountingLimiter()
    rec = Recorder(httpx.Response(500), json_response(200, {"Invoice": {"Id": "1"}}))
    with make_client(rec, limiter=limiter) as qbo:
        qbo.read("Invoice", "1")
    assert limiter.calls == [False, False]
