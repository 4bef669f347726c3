"""Signed webhook delivery: `Stripe-Signature: t=…,v1=…` over `"{t}.{body}"`, retried with backoff.

Deliveries are queued by the API and sent by background tasks (or by POST /__sandbox/webhooks/deliver), so an
API response never waits on a webhook receiver. Each endpoint has a queue and a sender of its own, and every
attempt has a deadline (`timeout_seconds`, connecting included): a dead or hanging receiver only ever delays
its own deliveries, never another endpoint's. Secrets never appear in logs or in `describe()`.
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
    connect: bool = False  # receives the events of connected accounts instead of the platform's own
    enabled: bool = True

    def wants(self, event_type: str, connect: bool = False) -> bool:
        """Whether this endpoint takes `event_type` (`*` or the exact type) from the platform or Connect."""
        if not self.enabled or self.connect != connect:
            return False
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
    """Queues and senders of webhook deliveries: one sender per endpoint."""

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
        self._senders: dict[str, tuple[asyncio.Task[None], asyncio.Event]] = {}

    # --- queue -------------------------------------------------------------------------------------------
    def add_endpoint(self, endpoint: Endpoint) -> None:
        """Register a receiver."""
        self.endpoints[endpoint.id] = endpoint
        self.wake()

    def remove_endpoint(self, endpoint_id: str) -> None:
        """No more deliveries to this receiver (its pending ones fail)."""
        self.endpoints.pop(endpoint_id, None)
        self.wake()

    def endpoints_for(self, event_type: str, connect: bool = False) -> list[Endpoint]:
        """Enabled endpoints subscribed to `event_type` (Connect endpoints for connected accounts' events)."""
        return [e for e in self.endpoints.values() if e.wants(event_type, connect)]

    def enqueue(
        self,
        event_id: str,
        event_type: str,
        payload: bytes,
        endpoint_id: str | None = None,
        connect: bool = False,
    ) -> int:
        """Queue `payload` for every subscribed endpoint (or only `endpoint_id`); return how many."""
        targets = self.endpoints_for(event_type, connect)
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
        """Tell the senders to look at their queues now."""
        if self._wakeup is not None:
            self._wakeup.set()
        for _task, event in self._senders.values():
            event.set()

    def clear(self) -> None:
        """Drop every queued delivery and abandon attempts in flight (endpoints stay)."""
        self.deliveries.clear()
        for task, _event in self._senders.values():
            task.cancel()
        self._senders.clear()
        self.wake()

    def stats(self) -> dict[str, int]:
        """Counts by delivery status, plus attempts."""
        counts = {"pending": 0, "delivered": 0, "failed": 0}
        for d in self.deliveries:
            counts[d.status] += 1
        counts["attempts"] = sum(len(d.attempts) for d in self.deliveries)
        return counts

    def _pending(self, endpoint_id: str) -> list[Delivery]:
        return [
            d
            for d in self.deliveries
            if d.endpoint_id == endpoint_id and d.status == "pending" and not d.in_flight
        ]

    # --- sending -----------------------------------------------------------------------------------------
    async def deliver_now(self, order: str = "queued", rng: random.Random | None = None) -> list[Delivery]:
        """Send every pending delivery once, now, ignoring backoff: endpoints side by side, each in order."""
        batch = [d for d in self.deliveries if d.status == "pending" and not d.in_flight]
        if order == "reverse":
            batch.reverse()
        elif order == "shuffle":
            (rng or random.Random()).shuffle(batch)
        by_endpoint: dict[str, list[Delivery]] = {}
        for delivery in batch:
            by_endpoint.setdefault(delivery.endpoint_id, []).append(delivery)

        async def send_all(client: httpx.AsyncClient, queue: list[Delivery]) -> None:
            for delivery in queue:
                if delivery.status == "pending" and not delivery.in_flight:
                    await self._attempt(client, delivery)

        async with httpx.AsyncClient() as client:
            await asyncio.gather(*(send_all(client, queue) for queue in by_endpoint.values()))
        return batch

    async def run(self) -> None:
        """Background loop: keep one sender per endpoint alive until cancelled."""
        self._wakeup = asyncio.Event()
        async with httpx.AsyncClient() as client:
            try:
                while True:
                    for endpoint_id in list(self._senders):
                        task, _event = self._senders[endpoint_id]
                        if endpoint_id not in self.endpoints or task.done():
                            task.cancel()
                            del self._senders[endpoint_id]
                    for endpoint_id in self.endpoints:
                        if endpoint_id not in self._senders:
                            event = asyncio.Event()
                            task = asyncio.create_task(self._send_loop(client, endpoint_id, event))
                            self._senders[endpoint_id] = (task, event)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), timeout=1.0)
                    self._wakeup.clear()
            finally:
                for task, _event in self._senders.values():
                    task.cancel()
                self._senders.clear()
                self._wakeup = None

    async def _send_loop(self, client: httpx.AsyncClient, endpoint_id: str, wakeup: asyncio.Event) -> None:
        """One endpoint's sender: its due deliveries one after the other, then sleep until the next is due."""
        while endpoint_id in self.endpoints:
            wakeup.clear()
            now = time.monotonic()
            pending = self._pending(endpoint_id)
            due = [d for d in pending if d.next_attempt_at <= now]
            if due:
                await self._attempt(client, due[0])
                continue
            timeout = min((d.next_attempt_at for d in pending), default=now + 1.0) - now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), timeout=min(max(timeout, 0.001), 1.0))

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
            response = await asyncio.wait_for(
                client.post(
                    endpoint.url, content=delivery.payload, headers=headers, timeout=self.timeout_seconds
                ),
                timeout=self.timeout_seconds,
            )
            status_code = response.status_code
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        except TimeoutError:
            error = "Timeout"
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
