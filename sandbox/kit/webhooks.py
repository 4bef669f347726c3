"""Signed webhook deliveries with retries, for every kit sandbox.

`Signing` says how a provider proves its webhooks, with the same fields and schemes as the connector side's
declaration (`connectors.kit.provider.Webhooks`, checked by `connectors.kit.webhooks.verify`): HMAC of the
body, of URL + body, of a timestamped body ("t=...,v1=..." or a separate timestamp header), or a shared
secret echoed as is. `WebhookSender` POSTs a body from a background task (the API response never waits),
retries a failed delivery (non-2xx, a network error, or no answer within the per-attempt deadline
`timeout_s`) `attempts` times with a growing delay, then gives up as the providers do, and keeps a log of
deliveries for the admin API. The secret is never logged or shown.

Two ways to send. `send`/`deliver`: one configured URL and secret (QBO, Xero). Endpoints (Stripe): several
receivers, each with its own URL, secret and queue; `enqueue` queues a body for some of them, `run()` (a
background task) keeps one sender per endpoint so a dead or hanging receiver only delays its own deliveries,
`deliver_now` sends what is pending at once (a sandbox without automatic delivery).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

__all__ = ["Attempt", "Delivery", "Endpoint", "Signing", "WebhookSender", "signature_headers"]

log = logging.getLogger("sandbox.kit.webhooks")

MAX_LOG = 1000


@dataclass(frozen=True)
class Signing:
    """How deliveries are signed (see the module docstring; field meanings as the connector's `Webhooks`)."""

    scheme: Literal["hmac_body", "hmac_url_body", "hmac_timestamped", "shared_secret"]
    header: str
    algorithm: Literal["sha256", "sha1"] = "sha256"
    encoding: Literal["hex", "base64"] = "hex"
    timestamp_header: str | None = None
    signature_item: str | None = None
    signed_format: str = "{body}"
    signature_prefix: str = ""


def _encode(signing: Signing, secret: str, message: bytes) -> str:
    algorithm = hashlib.sha256 if signing.algorithm == "sha256" else hashlib.sha1
    digest = hmac.new(secret.encode(), message, algorithm).digest()
    text = base64.b64encode(digest).decode() if signing.encoding == "base64" else digest.hex()
    return signing.signature_prefix + text


def signature_headers(signing: Signing, secret: str, body: bytes, url: str, now: float) -> dict[str, str]:
    """The headers that prove `body` (sent to `url` at `now`) comes from the sandbox."""
    if signing.scheme == "shared_secret":
        return {signing.header: secret}
    if signing.scheme == "hmac_url_body":
        return {signing.header: _encode(signing, secret, url.encode() + body)}
    if signing.scheme == "hmac_body":
        return {signing.header: _encode(signing, secret, body)}
    stamp = str(int(now))
    before, _, after = signing.signed_format.partition("{body}")
    message = before.format(timestamp=stamp).encode() + body + after.format(timestamp=stamp).encode()
    signature = _encode(signing, secret, message)
    if signing.signature_item:
        return {signing.header: f"t={stamp},{signing.signature_item}={signature}"}
    return {signing.header: signature, signing.timestamp_header or "X-Timestamp": stamp}


@dataclass
class Endpoint:
    """A registered receiver with its own secret and queue (subclass it for what decides its events)."""

    id: str
    url: str
    secret: str = field(repr=False)


@dataclass
class Attempt:
    """One POST of a queued delivery."""

    at: float
    status_code: int | None
    error: str | None
    duration_ms: float


@dataclass
class Delivery:
    """One body for one endpoint, until it is answered 2xx or runs out of attempts. `label` names it in log
    lines; `meta` (the provider's: an event id and type) rides along in `describe()`."""

    id: int
    endpoint_id: str
    body: bytes
    next_attempt_at: float
    label: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    status: Literal["pending", "delivered", "failed"] = "pending"
    attempts: list[Attempt] = field(default_factory=list)
    in_flight: bool = False

    def describe(self) -> dict[str, Any]:
        """JSON view for the admin API (no body, no secret)."""
        pending = self.status == "pending"
        return {
            "id": self.id,
            **self.meta,
            "endpoint_id": self.endpoint_id,
            "status": self.status,
            "attempts": [
                {"at": a.at, "status_code": a.status_code, "error": a.error, "duration_ms": a.duration_ms}
                for a in self.attempts
            ],
            "next_attempt_in": max(self.next_attempt_at - time.monotonic(), 0.0) if pending else None,
        }


class WebhookSender:
    """Where webhooks go, how they are signed, and the log of deliveries.

    `secret_name`: the name the admin API uses for the secret (QBO: "verifier_token"); `scope_key`: the key
    naming the scope in each logged delivery (QBO: "realm_id"); `headers`: extra headers per delivery (a
    provider's delivery id); `on_result(scope, ok)` is called after each delivery's last attempt.
    `timeout_s`: each attempt's deadline, connecting included. Retries wait `retry_delay_s` times the attempt
    number (`backoff="linear"`) or doubling from it (`"doubling"`), at most `retry_max_s`. Endpoints:
    `on_delivered(delivery)` when one is answered 2xx."""

    def __init__(
        self,
        signing: Signing,
        secret: str,
        *,
        url: str | None = None,
        attempts: int = 3,
        retry_delay_s: float = 0.5,
        secret_name: str = "secret",  # noqa: S107 - a field name
        scope_key: str = "scope",
        headers: Callable[[], dict[str, str]] | None = None,
        on_result: Callable[[str, bool], None] | None = None,
        now: Callable[[], float] = time.time,
        timeout_s: float = 3.0,
        backoff: Literal["linear", "doubling"] = "linear",
        retry_max_s: float | None = None,
        on_delivered: Callable[[Delivery], None] | None = None,
    ) -> None:
        self.signing = signing
        self.secret = secret
        self.url = url
        self.attempts = max(1, attempts)
        self.retry_delay_s = retry_delay_s
        self.secret_name = secret_name
        self.scope_key = scope_key
        self.headers = headers
        self._on_result = on_result
        self._now = now
        self.timeout_s = timeout_s
        self.backoff = backoff
        self.retry_max_s = retry_max_s
        self._on_delivered = on_delivered
        self._tasks: set[asyncio.Task[None]] = set()
        self.deliveries: list[dict[str, Any]] = []
        self.endpoints: dict[str, Endpoint] = {}
        self.queued: list[Delivery] = []
        self._next_id = 0
        self._wakeup: asyncio.Event | None = None
        self._senders: dict[str, tuple[asyncio.Task[None], asyncio.Event]] = {}

    def configure(self, changes: dict[str, Any]) -> None:
        """Change url / the secret / attempts at run time (ValueError on a bad or unknown value)."""
        for key, value in changes.items():
            if key == "url":
                if value is not None and not isinstance(value, str):
                    raise ValueError("url must be a string or null")
                self.url = value
            elif key == self.secret_name:
                if not isinstance(value, str) or not value:
                    raise ValueError(f"{key} must be a non-empty string")
                self.secret = value
            elif key == "attempts":
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    raise ValueError("attempts must be an integer >= 1")
                self.attempts = value
            else:
                raise ValueError(f"unknown webhook setting {key}")

    def settings(self) -> dict[str, Any]:
        """The configuration, without the secret."""
        return {"url": self.url, "attempts": self.attempts}

    def schedule(self, coro: Any) -> None:
        """Run `coro` as a background task of this sender (drained and cancelled with it)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def send(self, scope: str, body: bytes, url: str | None = None) -> bool:
        """Deliver `body` in the background (must run on the event loop); False when no URL is set."""
        target = url or self.url
        if not target:
            return False
        self.schedule(self.deliver(scope, target, body))
        return True

    def retry_delay(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (1-based)."""
        grows = attempt if self.backoff == "linear" else 2 ** (attempt - 1)
        delay = self.retry_delay_s * grows
        return delay if self.retry_max_s is None else min(delay, self.retry_max_s)

    async def _post(
        self, client: httpx.AsyncClient, url: str, secret: str, body: bytes
    ) -> tuple[int | None, str | None]:
        """One signed POST within the deadline: (status, None) or (None, the error's name)."""
        headers = {
            "content-type": "application/json; charset=utf-8",
            "accept": "application/json",
            **(self.headers() if self.headers else {}),
            **signature_headers(self.signing, secret, body, url, self._now()),
        }
        try:
            post = client.post(url, content=body, headers=headers, timeout=self.timeout_s)
            response = await asyncio.wait_for(post, timeout=self.timeout_s)
        except httpx.HTTPError as exc:
            return None, type(exc).__name__
        except TimeoutError:
            return None, "Timeout"
        return response.status_code, None

    async def deliver(self, scope: str, url: str, body: bytes) -> bool:
        """POST `body` to `url`, signed, retrying; logs the delivery and returns whether it landed."""
        record: dict[str, Any] = {self.scope_key: scope, "url": url, "body": body.decode(), "attempts": 0}
        status: int | None = None
        error: str | None = None
        async with httpx.AsyncClient() as client:
            for attempt in range(1, self.attempts + 1):
                record["attempts"] = attempt
                status, error = await self._post(client, url, self.secret, body)
                if status is not None and 200 <= status < 300:
                    break
                if attempt < self.attempts:
                    await asyncio.sleep(self.retry_delay(attempt))
        ok = status is not None and 200 <= status < 300
        record.update({"status": status, "error": error, "delivered": ok})
        self.deliveries.append(record)
        del self.deliveries[:-MAX_LOG]
        if self._on_result is not None:
            self._on_result(scope, ok)
        return ok

    # ------------------------------------------------------------ endpoints, each with its queue

    def add_endpoint(self, endpoint: Endpoint) -> None:
        """Register a receiver."""
        self.endpoints[endpoint.id] = endpoint
        self.wake()

    def remove_endpoint(self, endpoint_id: str) -> None:
        """No more deliveries to this receiver (its pending ones fail)."""
        self.endpoints.pop(endpoint_id, None)
        self.wake()

    def enqueue(
        self, endpoint_ids: Iterable[str], body: bytes, label: str = "", meta: dict[str, Any] | None = None
    ) -> int:
        """Queue `body` for each of these (registered) endpoints; returns how many."""
        now = time.monotonic()
        queued = 0
        for endpoint_id in endpoint_ids:
            if endpoint_id in self.endpoints:
                self._next_id += 1
                self.queued.append(Delivery(self._next_id, endpoint_id, body, now, label, dict(meta or {})))
                queued += 1
        if queued:
            self.wake()
        return queued

    def wake(self) -> None:
        """Tell the senders to look at their queues now."""
        if self._wakeup is not None:
            self._wakeup.set()
        for _task, event in self._senders.values():
            event.set()

    def clear(self) -> None:
        """Forget the log and every queued delivery; abandon attempts in flight (endpoints stay)."""
        self.deliveries.clear()
        self.queued.clear()
        for task, _event in self._senders.values():
            task.cancel()
        self._senders.clear()
        self.wake()

    def counts(self) -> dict[str, int]:
        """Queued deliveries by status, plus attempts."""
        counts = {"pending": 0, "delivered": 0, "failed": 0}
        for d in self.queued:
            counts[d.status] += 1
        counts["attempts"] = sum(len(d.attempts) for d in self.queued)
        return counts

    def _pending(self, endpoint_id: str | None = None) -> list[Delivery]:
        return [
            d
            for d in self.queued
            if d.status == "pending" and not d.in_flight and endpoint_id in (None, d.endpoint_id)
        ]

    async def deliver_now(self, order: str = "queued", rng: random.Random | None = None) -> list[Delivery]:
        """Send every pending delivery once, now, ignoring backoff: endpoints side by side, each in order
        (`order`: queued, reverse or shuffle)."""
        batch = self._pending()
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
        try:
            status, error = await self._post(client, endpoint.url, endpoint.secret, delivery.body)
        finally:
            delivery.in_flight = False
        delivery.attempts.append(Attempt(time.time(), status, error, (time.monotonic() - started) * 1000))
        if status is not None and 200 <= status < 300:
            delivery.status = "delivered"
            if self._on_delivered is not None:
                self._on_delivered(delivery)
            return
        log.info(
            "webhook %s to %s failed (%s), attempt %d",
            delivery.label,
            delivery.endpoint_id,
            status or error,
            len(delivery.attempts),
        )
        if len(delivery.attempts) >= self.attempts:
            delivery.status = "failed"
            return
        delivery.next_attempt_at = time.monotonic() + self.retry_delay(len(delivery.attempts))
        self.wake()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for queued deliveries (tests; shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def close(self) -> None:
        """Cancel what is still pending."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=1.0)
