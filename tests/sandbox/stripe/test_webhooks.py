"""Signed webhook delivery: verified by the official SDK, retried with backoff, never blocking the API."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.common.server import LocalServer
from sandbox.stripe import create_app, sign
from tests.sandbox.stripe.conftest import API_KEY, RunningSandbox, sandbox_options

SECRET = "whsec_test_secret_for_sierra"


@dataclass
class Receiver:
    """A webhook receiver that records what it got and answers per a plan."""

    url: str = ""
    received: list[tuple[dict[str, str], bytes, float]] = field(default_factory=list)
    fail_first: int = 0  # answer 500 to the first N deliveries of each event
    delay: float = 0.0
    seen: Counter[str] = field(default_factory=Counter)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body, _ in self.received]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, f"timed out; received {len(self.received)} deliveries"
            time.sleep(0.02)


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[Receiver]:
    receiver = Receiver()

    async def hook(request: Request) -> Response:
        body = await request.body()
        receiver.received.append((dict(request.headers), body, time.monotonic()))
        event_id = json.loads(body)["id"]
        receiver.seen[event_id] += 1
        if receiver.delay:
            await asyncio.sleep(receiver.delay)
        return Response(status_code=500 if receiver.seen[event_id] <= receiver.fail_first else 200)

    with LocalServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as server:
        receiver.url = f"{server.url}/hook"
        yield receiver


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    receiver_server.received.clear()
    receiver_server.seen.clear()
    receiver_server.fail_first, receiver_server.delay = 0, 0.0
    return receiver_server


def _register(sandbox: RunningSandbox, receiver: Receiver, **extra: Any) -> Any:
    return sandbox.admin("POST", "webhook_endpoints", {"url": receiver.url, "secret": SECRET, **extra})


def test_sign_matches_the_sdk() -> None:
    payload = b'{"id": "evt_1", "object": "event"}'
    header = sign(payload, SECRET, 1_700_000_000)
    assert header == stripe.WebhookSignature.generate_signature_header(
        payload.decode(), SECRET, timestamp=1_700_000_000
    )


def test_signed_deliveries_verify_with_construct_event(
    sandbox: RunningSandbox, client: stripe.StripeClient, receiver: Receiver
) -> None:
    endpoint = _register(sandbox, receiver)
    assert endpoint["id"].startswith("we_") and endpoint["secret"] == SECRET
    intent = client.v1.payment_intents.create(
        params={"amount": 4200, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )
    receiver.wait_for(lambda: len(receiver.received) >= 3)
    for headers, body, _ in receiver.received:
        event = stripe.Webhook.construct_event(body.decode(), headers["stripe-signature"], SECRET)
        assert event.object == "event"
        assert headers["content-type"].startswith("application/json")
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(body.decode(), headers["stripe-signature"], "whsec_wrong")
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(body.decode() + " ", headers["stripe-signature"], SECRET)
    by_type = {e["type"]: e for e in receiver.events()}
    assert set(by_type) == {"payment_intent.created", "charge.succeeded", "payment_intent.succeeded"}
    succeeded = by_type["payment_intent.succeeded"]
    assert succeeded["data"]["object"]["id"] == intent.id
    assert succeeded["data"]["object"]["status"] == "succeeded"
    assert by_type["payment_intent.created"]["data"]["object"]["status"] == "requires_confirmation"
    stored = client.v1.events.retrieve(succeeded["id"])
    assert stored.pending_webhooks == 0
    assert sandbox.admin("GET", "stats")["webhooks"]["delivered"] == 3


def test_failed_deliveries_are_retried_with_backoff(
    sandbox: RunningSandbox, client: stripe.StripeClient, receiver: Receiver
) -> None:
    _register(sandbox, receiver, enabled_events=["customer.created"])
    receiver.fail_first = 2
    customer = client.v1.customers.create(params={"name": "Acme"})
    client.v1.customers.update(customer.id, params={"name": "Acme 2"})  # not subscribed: never sent
    receiver.wait_for(lambda: any(s == 200 for s in _statuses(sandbox)))
    times = [t for _, _, t in receiver.received]
    assert len(times) == 3
    assert {e["type"] for e in receiver.events()} == {"customer.created"}
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[0] >= 0.04 and gaps[1] >= 0.08  # 0.05 s then 0.1 s (base 0.05, doubling)
    (delivery,) = sandbox.admin("GET", "webhooks/deliveries")["data"]
    assert delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 200]


def _statuses(sandbox: RunningSandbox) -> list[int | None]:
    return [
        a["status_code"] for d in sandbox.admin("GET", "webhooks/deliveries")["data"] for a in d["attempts"]
    ]


def test_delivery_gives_up_after_max_attempts(
    sandbox: RunningSandbox, client: stripe.StripeClient, receiver: Receiver
) -> None:
    _register(sandbox, receiver)
    receiver.fail_first = 100
    client.v1.customers.create(params={"name": "Acme"})
    receiver.wait_for(lambda: sandbox.admin("GET", "webhooks/deliveries?status=failed")["data"] != [])
    assert len(receiver.received) == 4  # webhook_max_attempts in the test options
    event = client.v1.events.list().data[0]
    assert event.pending_webhooks == 1


def test_slow_receiver_does_not_block_the_api(
    sandbox: RunningSandbox, client: stripe.StripeClient, receiver: Receiver
) -> None:
    _register(sandbox, receiver)
    receiver.delay = 1.0
    started = time.monotonic()
    for _ in range(3):
        client.v1.customers.create(params={"name": "Acme"})
    assert time.monotonic() - started < 0.5
    receiver.wait_for(lambda: len(receiver.received) == 3)


def test_manual_delivery_order_and_duplicates(sandbox: RunningSandbox, receiver: Receiver) -> None:
    # `sandbox` (reset) stops the module's sandbox from sending late retries to the shared receiver.
    app = create_app(sandbox_options(webhook_auto_deliver=False))
    with LocalServer(app) as server:
        manual = RunningSandbox(server.url, app.state.sandbox)
        _register(manual, receiver)
        client = stripe.StripeClient(API_KEY, base_addresses={"api": server.url})
        ids = [client.v1.customers.create(params={"name": f"c{i}"}).id for i in range(3)]
        time.sleep(0.1)
        assert receiver.received == []  # nothing is sent until asked
        result = manual.admin("POST", "webhooks/deliver", {"order": "reverse"})
        assert result["attempted"] == 3
        assert [e["data"]["object"]["id"] for e in receiver.events()] == list(reversed(ids))
        first_event = receiver.events()[-1]["id"]
        assert manual.admin("POST", "webhooks/redeliver", {"event_id": first_event}) == {"queued": 1}
        manual.admin("POST", "webhooks/deliver")
        assert [e["id"] for e in receiver.events()].count(first_event) == 2


def test_no_secret_reaches_a_log_line(
    sandbox: RunningSandbox, client: stripe.StripeClient, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _register(sandbox, receiver)
    receiver.fail_first = 1
    client.v1.customers.create(params={"name": "Acme"})
    sandbox.api("GET", "/v1/customers", key="sk_test_")  # a rejected key
    receiver.wait_for(lambda: len(receiver.received) == 2)
    assert "webhook customer.created" in caplog.text  # the failed attempt was logged…
    assert SECRET not in caplog.text and API_KEY not in caplog.text  # …without secrets
