# mypy: disable-error-code="union-attr,arg-type,typeddict-item,typeddict-unknown-key,call-overload"
# (stripe-python types most response fields as Optional unions; the tests assert on the actual values.)
"""Fault injection, the /__sandbox/ admin API, the clock, retention and disputes."""

from __future__ import annotations

import time

import httpx
import pytest
import stripe

from tests.sandbox.stripe.conftest import RunningSandbox


def test_error_rate_answers_5xx_before_doing_anything(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    sandbox.admin("POST", "faults", {"error_rate": 1.0})
    with pytest.raises(stripe.APIError) as info:
        client.v1.customers.create(params={"name": "never"})
    assert info.value.http_status in (500, 503)
    assert info.value.error.type == "api_error"
    stats = sandbox.admin("GET", "stats")
    assert stats["faults_injected"] == 3  # the first try and the SDK's two retries
    assert stats["requests_by_endpoint"]["POST /v1/customers"] == 3
    sandbox.admin("POST", "faults", {"error_rate": 0})
    assert client.v1.customers.list().data == []


def test_drop_applies_then_loses_the_answer_and_the_sdk_retry_replays(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    sandbox.admin("POST", "faults", {"drop_rate": 1.0, "drop_mode": "502"})
    params = {"amount": 3000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    intent = client.v1.payment_intents.create(params=params, options={"idempotency_key": "drop-502"})
    assert intent.status == "succeeded"
    assert intent.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(sandbox.state.store.all("payment_intent")) == 1  # applied once, though answered twice
    assert sandbox.admin("GET", "stats")["faults_injected"] == 1


def test_connection_reset_after_apply_is_not_retried_by_the_sdk(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    """stripe-python does not retry a response cut mid-body: the caller must retry with the same key."""
    sandbox.admin("POST", "faults", {"drop_rate": 1.0, "drop_mode": "reset"})
    params = {"amount": 3000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    with pytest.raises(stripe.APIConnectionError):
        client.v1.payment_intents.create(params=params, options={"idempotency_key": "drop-reset"})
    again = client.v1.payment_intents.create(params=params, options={"idempotency_key": "drop-reset"})
    assert again.status == "succeeded"
    assert [pi["id"] for pi in sandbox.state.store.all("payment_intent")] == [again.id]


def test_drop_reset_kills_the_connection(sandbox: RunningSandbox) -> None:
    sandbox.admin("POST", "faults", {"drop_rate": 1.0, "drop_mode": "reset"})
    with pytest.raises(httpx.HTTPError):
        sandbox.api("POST", "/v1/customers", data={"name": "x"})
    assert len(sandbox.state.store.all("customer")) == 1
    assert sandbox.api("GET", "/v1/customers").status_code == 200  # reads are never dropped


def test_throttle_burst_and_rate_limit(sandbox: RunningSandbox, client: stripe.StripeClient) -> None:
    sandbox.admin("POST", "faults", {"throttle": 2})
    for _ in range(2):
        with pytest.raises(stripe.RateLimitError) as info:
            client.v1.customers.list()
        assert info.value.http_status == 429 and info.value.error.code == "rate_limit"
    client.v1.customers.list()
    sandbox.admin("POST", "faults", {"rate_limit": {"limit": 3, "window_seconds": 60}})
    statuses = [sandbox.api("GET", "/v1/customers").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert sandbox.admin("GET", "stats")["throttled"] == 4


def test_latency_and_bad_fault_settings(sandbox: RunningSandbox) -> None:
    sandbox.admin("POST", "faults", {"latency_ms": 150, "jitter_ms": 10})
    started = time.monotonic()
    sandbox.api("GET", "/v1/customers")
    assert time.monotonic() - started >= 0.14
    assert httpx.post(f"{sandbox.url}/__sandbox/faults", json={"error_rate": 2}).status_code == 400
    assert httpx.post(f"{sandbox.url}/__sandbox/faults", json={"bogus": 1}).status_code == 400
    bad_mode = httpx.post(f"{sandbox.url}/__sandbox/faults", json={"drop_mode": "sometimes"})
    assert bad_mode.status_code == 400 and "drop_mode" in bad_mode.json()["error"]
    assert sandbox.admin("GET", "faults")["latency_ms"] == 150


def test_reset_objects_and_stats(sandbox: RunningSandbox, client: stripe.StripeClient) -> None:
    client.v1.customers.create(params={"name": "Acme"})
    listed = sandbox.admin("GET", "objects/customer")
    assert [c["name"] for c in listed["data"]] == ["Acme"]
    assert sandbox.admin("GET", "stats")["requests_total"] == 1
    sandbox.admin("POST", "reset")
    assert sandbox.admin("GET", "objects/customer")["data"] == []
    assert sandbox.admin("GET", "stats")["requests_total"] == 0


def test_events_expire_after_30_days(sandbox: RunningSandbox, client: stripe.StripeClient) -> None:
    client.v1.customers.create(params={"name": "old"})
    old_event = client.v1.events.list().data[0]
    sandbox.admin("POST", "clock", {"advance_days": 29})
    client.v1.customers.create(params={"name": "new"})
    assert len(client.v1.events.list().data) == 2
    sandbox.admin("POST", "clock", {"advance_days": 2})
    remaining = client.v1.events.list().data
    assert [e.data.object.name for e in remaining] == ["new"]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.events.retrieve(old_event.id)


def test_funds_become_available_with_the_clock(sandbox: RunningSandbox, client: stripe.StripeClient) -> None:
    client.v1.payment_intents.create(
        params={"amount": 10000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )
    assert client.v1.balance.retrieve().pending[0].amount == 10000 - 320
    sandbox.admin("POST", "clock", {"advance_days": 2})
    assert client.v1.balance.retrieve().available[0].amount == 9680
    payout = client.v1.payouts.create(params={"amount": 9000, "currency": "usd"})
    assert payout.automatic is False and payout.status == "pending"  # cancelable for an hour
    assert client.v1.balance.retrieve().available[0].amount == 680
    sandbox.admin("POST", "clock", {"advance_seconds": 3600})
    assert client.v1.payouts.retrieve(payout.id).status == "in_transit"


def test_dispute_card_opens_a_chargeback(sandbox: RunningSandbox, client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 8000, "currency": "usd", "payment_method": "pm_card_createDispute", "confirm": True}
    )
    assert intent.status == "succeeded"
    (event,) = client.v1.events.list(params={"type": "charge.dispute.created"}).data
    dispute = event.data.object
    assert dispute.charge == intent.latest_charge and dispute.amount == 8000
    txn = dispute.balance_transactions[0]
    assert (txn.amount, txn.fee, txn.net, txn.reporting_category) == (-8000, 1500, -9500, "dispute")
    assert client.v1.charges.retrieve(intent.latest_charge).disputed is True
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create(params={"payment_intent": intent.id})
    assert info.value.code == "charge_disputed"
