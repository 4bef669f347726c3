"""The web app under test: real FastAPI app, real database (both dialects), injectable secrets and clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import stripe
from sqlalchemy import select

from sandbox.common.server import LocalServer
from sierra_core.db.models import WebhookEvent
from sierra_core.inbox import InboxEvent
from sierra_sync.web import AppDeps, InProcessDispatcher, create_app
from tests.web.api_helpers import Api, build_world, keyring

STRIPE_SECRET = "whsec_testreceiversecret0001"
OLD_STRIPE_SECRET = "whsec_testreceiveroldsecret01"
VERIFIER = "qbo-verifier-token-for-tests"


class RecordingDispatcher(InProcessDispatcher):
    """The real in-process dispatcher, remembering what it was handed."""

    def __init__(self, sessions: Any) -> None:
        super().__init__(sessions)
        self.batches: list[list[InboxEvent]] = []

    def dispatch(self, events: Sequence[InboxEvent]) -> None:
        self.batches.append(list(events))
        super().dispatch(events)


class Switch:
    """One ASGI server for the session; each test plugs its own app in (a uvicorn start per test is slow)."""

    def __init__(self) -> None:
        self.app: Any = None
        self.in_flight = 0  # requests whose app has not returned yet (its request-log row comes last)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # the plugged apps have no startup work
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until every request has left the app: a client has its answer a moment before the app
        queues the request's log row, which must not be written after the test's tables are emptied."""
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.005)


@dataclass
class WebServer:
    switch: Switch
    url: str

    @contextmanager
    def serve(self, deps: AppDeps) -> Iterator[httpx.Client]:
        """A client of a fresh app on `deps`; at the end the app's request log is written out and its
        writer stopped, so no row lands during the next test (or while the tables are being emptied)."""
        app = create_app(deps)
        self.switch.app = app
        try:
            with httpx.Client(base_url=self.url, timeout=10) as client:
                yield client
        finally:
            self.switch.settle()
            app.state.request_log.close()
            app.state.key_cache.close()
            app.state.lean_reads.close_from_thread()  # the plugged app's lifespan never runs


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    """Background work (dispatch after the answer) finishes a moment after the response."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for background work"
        time.sleep(0.01)


@dataclass
class Receiver:
    client: httpx.Client
    deps: AppDeps
    dispatcher: RecordingDispatcher
    url: str
    now: list[float] = field(default_factory=lambda: [time.time()])

    def rows(self, provider: str | None = None) -> list[WebhookEvent]:
        with self.deps.sessions() as s:
            query = select(WebhookEvent).order_by(WebhookEvent.event_id)
            if provider:
                query = query.where(WebhookEvent.provider == provider)
            return list(s.scalars(query))

    def post_stripe(
        self,
        body: bytes,
        *,
        secret: str = STRIPE_SECRET,
        timestamp: int | None = None,
        header: str | None = None,
    ) -> Any:
        if header is None:
            header = stripe.WebhookSignature.generate_signature_header(
                body.decode(), secret, timestamp=int(self.now[0]) if timestamp is None else timestamp
            )
        return self.client.post(
            "/webhooks/stripe",
            content=body,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        )

    def post_quickbooks(self, body: bytes, *, token: str = VERIFIER, signature: str | None = None) -> Any:
        signature = signature if signature is not None else intuit_signature(body, token)
        return self.client.post(
            "/webhooks/quickbooks",
            content=body,
            headers={"intuit-signature": signature, "Content-Type": "application/json; charset=utf-8"},
        )


def intuit_signature(body: bytes, token: str = VERIFIER) -> str:
    return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()


def stripe_event(event_id: str = "evt_test_1", type_: str = "payment_intent.succeeded", **obj: Any) -> bytes:
    payload = {
        "id": event_id,
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "data": {"object": {"id": "pi_test_1", "object": "payment_intent", "metadata": {}, **obj}},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }
    return json.dumps(payload, indent=2).encode()


@pytest.fixture(scope="session")
def web_server() -> Iterator[WebServer]:
    switch = Switch()
    with LocalServer(switch) as server:
        yield WebServer(switch, server.url)


@pytest.fixture
def receiver(sessions, web_server) -> Iterator[Receiver]:
    dispatcher = RecordingDispatcher(sessions)
    now = [time.time()]
    deps = AppDeps(
        sessions=sessions,
        webhook_secrets={"stripe": [STRIPE_SECRET, OLD_STRIPE_SECRET], "quickbooks_online": [VERIFIER]},
        dispatcher=dispatcher,
        clock=lambda: now[0],
    )
    with web_server.serve(deps) as client:
        yield Receiver(client=client, deps=deps, dispatcher=dispatcher, url=web_server.url, now=now)


@pytest.fixture
def api(sessions, web_server) -> Iterator[Api]:
    """The public API of two companies (Alpha, Bravo), each with one row of everything and keys."""
    ring = keyring()
    a = build_world(sessions, ring, "Alpha Builders")
    b = build_world(sessions, ring, "Bravo Builders")
    now = [time.time()]
    deps = AppDeps(sessions=sessions, webhook_keyring=ring, clock=lambda: now[0])
    with web_server.serve(deps) as client:
        yield Api(client, deps, a, b, now, web_server.switch.app)
