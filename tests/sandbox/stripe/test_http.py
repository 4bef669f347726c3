"""Stripe's wire conventions over raw HTTP: form encoding, auth, headers, idempotency, expand, 404s."""

from __future__ import annotations

import base64
import threading

import httpx
import pytest

from sandbox.stripe.errors import StripeError
from sandbox.stripe.forms import parse_query
from tests.sandbox.stripe.conftest import API_KEY, RunningSandbox


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("metadata[invoice_id]=inv_1&metadata[0]=x", {"metadata": {"invoice_id": "inv_1", "0": "x"}}),
        ("expand[]=latest_charge&expand[]=customer", {"expand": ["latest_charge", "customer"]}),
        ("expand[1]=b&expand[0]=a", {"expand": ["a", "b"]}),  # what the SDK sends, in index order
        ("payment_method_types[]=card", {"payment_method_types": ["card"]}),
        ("automatic_payment_methods[enabled]=true", {"automatic_payment_methods": {"enabled": "true"}}),
        ("created[gte]=10&created[lt]=20", {"created": {"gte": "10", "lt": "20"}}),
        ("a[b][c]=1&a[b][d]=2", {"a": {"b": {"c": "1", "d": "2"}}}),
        ("items[0][price]=p1&items[1][price]=p2", {"items": [{"price": "p1"}, {"price": "p2"}]}),
        ("description=&name=A%20B+C", {"description": "", "name": "A B C"}),
        ("metadata=", {"metadata": ""}),
    ],
)
def test_form_decoding(raw: str, expected: dict[str, object]) -> None:
    assert parse_query(raw) == expected


@pytest.mark.parametrize("raw", ["a=1&a[b]=2", "a[b]=2&a=1", "a[=1", "a[][x]=1"])
def test_form_decoding_rejects_ambiguous_keys(raw: str) -> None:
    with pytest.raises(StripeError) as info:
        parse_query(raw)
    assert info.value.status == 400


def test_auth_schemes(sandbox: RunningSandbox) -> None:
    basic = base64.b64encode(f"{API_KEY}:".encode()).decode()
    assert sandbox.api("GET", "/v1/customers", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    for header in ("Bearer pk_test_123", "Bearer sk_live_abcdef123456", "Bearer sk_test_", "Token sk_test_1"):
        response = sandbox.api("GET", "/v1/customers", headers={"Authorization": header})
        assert response.status_code == 401, header
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert "abcdef123456" not in error["message"]  # a bad key is masked, never echoed
    no_header = httpx.get(f"{sandbox.url}/v1/customers")
    assert no_header.status_code == 401


def test_standard_headers_and_unknown_urls(sandbox: RunningSandbox) -> None:
    response = sandbox.api("GET", "/v1/customers", headers={"Stripe-Version": "2024-06-20"})
    assert response.headers["Request-Id"].startswith("req_")
    assert response.headers["Stripe-Version"] == "2024-06-20"
    assert response.headers["Content-Type"].startswith("application/json")
    unknown = sandbox.api("GET", "/v1/invoices")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"].startswith("Unrecognized request URL (GET: /v1/invoices)")


def test_idempotent_replay_of_a_card_error_and_of_a_success(sandbox: RunningSandbox) -> None:
    body = {
        "amount": "2000",
        "currency": "usd",
        "payment_method": "pm_card_chargeDeclined",
        "confirm": "true",
    }
    first = sandbox.api("POST", "/v1/payment_intents", data=body, headers={"Idempotency-Key": "k-decline"})
    second = sandbox.api("POST", "/v1/payment_intents", data=body, headers={"Idempotency-Key": "k-decline"})
    assert first.status_code == second.status_code == 402
    assert first.content == second.content
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Original-Request"] == first.headers["Request-Id"]
    assert second.headers["Request-Id"] != first.headers["Request-Id"]
    assert len(sandbox.state.store.all("payment_intent")) == 1

    invalid = {"amount": "10", "currency": "usd"}  # fails validation: nothing is saved under the key
    assert (
        sandbox.api(
            "POST", "/v1/payment_intents", data=invalid, headers={"Idempotency-Key": "k2"}
        ).status_code
        == 400
    )
    fixed = sandbox.api("POST", "/v1/customers", data={"name": "x"}, headers={"Idempotency-Key": "k2"})
    assert fixed.status_code == 200


def test_concurrent_requests_with_one_key_get_409(sandbox: RunningSandbox) -> None:
    sandbox.admin("POST", "faults", {"latency_ms": 300})
    results: list[httpx.Response] = []

    def send() -> None:
        results.append(
            sandbox.api("POST", "/v1/customers", data={"name": "A"}, headers={"Idempotency-Key": "same"})
        )

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in results) == [200, 409]
    conflict = next(r for r in results if r.status_code == 409).json()["error"]
    assert conflict["code"] == "idempotency_key_in_use"
    assert len(sandbox.state.store.all("customer")) == 1


def test_expand_errors_and_list_expansion(sandbox: RunningSandbox) -> None:
    data = {"amount": "1500", "currency": "usd", "payment_method": "pm_card_visa", "confirm": "true"}
    sandbox.api("POST", "/v1/payment_intents", data=data)
    listed = sandbox.api("GET", "/v1/payment_intents?expand[]=data.latest_charge.balance_transaction").json()
    assert listed["data"][0]["latest_charge"]["balance_transaction"]["object"] == "balance_transaction"
    bad = sandbox.api("GET", "/v1/payment_intents?expand[]=data.amount")
    assert bad.status_code == 400
    assert bad.json()["error"]["message"] == "This property cannot be expanded (amount)."


def test_list_paging_errors(sandbox: RunningSandbox) -> None:
    assert sandbox.api("GET", "/v1/customers?limit=0").status_code == 400
    assert sandbox.api("GET", "/v1/customers?limit=101").status_code == 400
    missing = sandbox.api("GET", "/v1/customers?starting_after=cus_nope")
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "starting_after"
