"""Signed webhook delivery: `Stripe-Signature: t=…,v1=…` over `"{t}.{body}"`, retried with backoff.

Deliveries are queued by the API and sent by a background task (or by POST /__sandbox/webhooks/deliver), so an
API response never waits on a webhook receiver. Secrets never appear in logs or in `describe()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger("sandbox.stripe.webhooks")


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The Stripe-Signature header value for `payload` sent at `timestamp`."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class Endpoint:
    """A registered receiver."""

    id: str
    url: str
    secret: str
    enabled_events: list[str]

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint subscribes to `event_type` (`*` or the exact type)."""
        return "*" in self.enabled_events or event_type in self.enabled_events


@dataclass
class Attempt:
    """One POST to an endpoint."""

    at: float
    status_code: int | None
    error: str | None
    duration_ms: float


@dataclass
class Delivery:
    """One event for one endpoint, until it is answered 2xx or runs out of attempts."""

    id: int
    event_id: str
    event_type: str
    endpoint_id: str
    payload: bytes
    next_attempt_at: float
    status: str = "pending"  # pending | delivered | failed
    attempts: list[Attempt] = field(default_factory=list)
    in_flight: bool = False

    def describe(self) -> dict[str, Any]:
        """JSON view for the admin API (no payload, no secret)."""
        return {
            "id": self.id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "endpoint_id": self.endpoint_id,
            "status": self.status,
            "attempts": [
                {"at": a.at, "status_code": a.status_code, "error": a.error, "duration_ms": a.duration_ms}
                for a in self.attempts
            ],
            "next_attempt_in": max(self.next_attempt_at - time.monotonic(), 0.0)
            if self.status == "pending"
            else None,
        }


class WebhookDispatcher:
    """Queue and sender of webhook deliveries."""

    def __init__(
        self,
        *,
        retry_base_seconds: float,
        retry_max_seconds: float,
        max_attempts: int,
        timeout_seconds: float,
        on_delivered: Callable[[str], None],
    ) -> None:
        self.retry_base_seconds = retry_base_seconds
        self.retry_max_seconds = retry_max_seconds
        self.max_attempts = max_attempts
        self.timeout_seconds = timeout_seconds
        self._on_delivered = on_delivered
        self.endpoints: dict[str, Endpoint] = {}
        self.deliveries: list[Delivery] = []
        self._next_id = 0
        self._wakeup: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # --- queue -------------------------------------------------------------------------------------------
    def endpoints_for(self, event_type: str) -> list[Endpoint]:
        """Endpoints subscribed to `event_type`."""
        return [e for e in self.endpoints.values() if e.wants(event_type)]

    def enqueue(self, event_id: str, event_type: str, payload: bytes, endpoint_id: str | None = None) -> int:
        """Queue `payload` for every subscribed endpoint (or only `endpoint_id`); return how many."""
        targets = self.endpoints_for(event_type)
        if endpoint_id is not None:
            targets = [e for e in self.endpoints.values() if e.id == endpoint_id]
        now = time.monotonic()
        for endpoint in targets:
            self._next_id += 1
            self.deliveries.append(Delivery(self._next_id, event_id, event_type, endpoint.id, payload, now))
        if targets:
            self.wake()
        return len(targets)

    def wake(self) -> None:
        """Tell the background loop to look at the queue now."""
        if self._wakeup is not None:
            self._wakeup.set()

    def clear(self) -> None:
        """Drop every queued delivery (endpoints stay)."""
        self.deliveries.clear()

    def stats(self) -> dict[str, int]:
        """Counts by delivery status, plus attempts."""
        counts = {"pending": 0, "delivered": 0, "failed": 0}
        for d in self.deliveries:
            counts[d.status] += 1
        counts["attempts"] = sum(len(d.attempts) for d in self.deliveries)
        return counts

    # --- sending -----------------------------------------------------------------------------------------
    async def deliver_now(self, order: str = "queued", rng: random.Random | None = None) -> list[Delivery]:
        """Send every pending delivery once, now, ignoring backoff (one at a time, in `order`)."""
        batch = [d for d in self.deliveries if d.status == "pending" and not d.in_flight]
        if order == "reverse":
            batch.reverse()
        elif order == "shuffle":
            (rng or random.Random()).shuffle(batch)
        async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
            for delivery in batch:
                if delivery.status == "pending" and not delivery.in_flight:
                    await self._attempt(client, delivery)
        return batch

    async def run(self) -> None:
        """Background loop: send due deliveries concurrently, sleep until the next one is due or a wake-up."""
        self._wakeup = asyncio.Event()
        async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
            try:
                while True:
                    now = time.monotonic()
                    waiting: list[float] = []
                    for delivery in self.deliveries:
                        if delivery.status != "pending" or delivery.in_flight:
                            continue
                        if delivery.next_attempt_at <= now:
                            task = asyncio.create_task(self._attempt(client, delivery))
                            self._tasks.add(task)
                            task.add_done_callback(self._tasks.discard)
                        else:
                            waiting.append(delivery.next_attempt_at)
                    timeout = min(min(waiting) - now, 1.0) if waiting else 1.0
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), timeout=max(timeout, 0.001))
                    self._wakeup.clear()
            finally:
                for task in list(self._tasks):
                    task.cancel()
                self._wakeup = None

    async def _attempt(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        endpoint = self.endpoints.get(delivery.endpoint_id)
        if endpoint is None:
            delivery.status = "failed"
            return
        delivery.in_flight = True
        started = time.monotonic()
        status_code: int | None = None
        error: str | None = None
        try:
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": sign(delivery.payload, endpoint.secret, int(time.time())),
            }
            response = await client.post(endpoint.url, content=delivery.payload, headers=headers)
            status_code = response.status_code
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        finally:
            delivery.in_flight = False
        delivery.attempts.append(
            Attempt(time.time(), status_code, error, (time.monotonic() - started) * 1000)
        )
        if status_code is not None and 200 <= status_code < 300:
            delivery.status = "delivered"
            self._on_delivered(delivery.event_id)
            return
        log.info(
            "webhook %s for %s to %s failed (%s), attempt %d",
            delivery.event_type,
            delivery.event_id,
            delivery.endpoint_id,
            status_code or error,
            len(delivery.attempts),
        )
        if len(delivery.attempts) >= self.max_attempts:
            delivery.status = "failed"
            return
        backoff = self.retry_base_seconds * 2 ** (len(delivery.attempts) - 1)
        delivery.next_attempt_at = time.monotonic() + min(backoff, self.retry_max_seconds)
        self.wake()
