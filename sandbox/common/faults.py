"""Fault injection shared by the local sandboxes (QuickBooks Online, Stripe).

A sandbox keeps one `FaultInjector` per scope it wants to control (QBO: one per realm plus a default;
Stripe: one per account or one global) and asks it, once per API request, what to do:

    injector = FaultInjector(FaultSettings(latency_ms=50, error_rate=0.1, drop_rate=0.05))
    await injector.delay()                      # fixed latency + uniform jitter (no-op when both are 0)
    decision = injector.decide(is_write=True)   # Decision.PASS / ERROR / DROP / THROTTLE
    if decision is Decision.ERROR:               # answer 500/503 before doing anything
        await send_error(send, injector.error_status(), my_error_body_factory)
    ...apply the request...
    if decision is Decision.DROP:                # the write is applied, the client never learns it
        await drop_response(send, injector.settings.drop_mode, injector.settings.drop_hang_s)

API (everything else is private):
- `FaultSettings`: latency_ms, jitter_ms, error_rate (0-1: share answered 5xx before doing anything),
  drop_rate (0-1: share of writes applied and then dropped), drop_mode ("reset": the connection closes in
  the middle of the response, the client sees a protocol/read error; "502": a bare 502 Bad Gateway as a
  proxy would send; "hang": nothing comes back for drop_hang_s seconds, then the connection closes: the
  client times out first), error_statuses (the 5xx statuses drawn from, default 500 and 503).
  `settings.updated(**changes)` returns a validated copy (ValueError on a bad value).
- `FaultInjector(settings, rng=None, sleep=asyncio.sleep)`: `delay()`, `decide(is_write)`,
  `error_status()`, `arm_throttle(n)` (the next n requests get Decision.THROTTLE: a throttle burst),
  `counts` (injected faults by kind: "error", "drop", "throttle").
- `ErrorBodyFactory`: `(status) -> (body bytes, content type)`; each sandbox passes its own error shape.
- `send_error(send, status, factory, headers=())`, `drop_response(send, mode, hang_s)`: raw ASGI helpers.
"""

from __future__ import annotations

import asyncio
import enum
import random
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, replace
from typing import Any, Literal

__all__ = [
    "Decision",
    "ErrorBodyFactory",
    "FaultInjector",
    "FaultSettings",
    "drop_response",
    "send_error",
]

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ErrorBodyFactory = Callable[[int], tuple[bytes, str]]
DropMode = Literal["reset", "502", "hang"]


class Decision(enum.Enum):
    """What the sandbox does with one request."""

    PASS = "pass"  # noqa: S105 - not a password
    ERROR = "error"  # answer a 5xx, do not apply
    DROP = "drop"  # apply (writes only), then drop the response
    THROTTLE = "throttle"  # answer the sandbox's throttling error (429), do not apply


@dataclass(frozen=True)
class FaultSettings:
    """Fault knobs of one scope. All zero: no faults."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    drop_mode: DropMode = "reset"
    drop_hang_s: float = 30.0
    error_statuses: tuple[int, ...] = (500, 503)

    def __post_init__(self) -> None:
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise ValueError("latency_ms and jitter_ms must be >= 0")
        for name in ("error_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.drop_mode not in ("reset", "502", "hang"):
            raise ValueError("drop_mode must be 'reset', '502' or 'hang'")
        if self.drop_hang_s < 0:
            raise ValueError("drop_hang_s must be >= 0")
        if not self.error_statuses or any(s < 500 or s > 599 for s in self.error_statuses):
            raise ValueError("error_statuses must be 5xx codes")

    def updated(self, **changes: Any) -> FaultSettings:
        """A validated copy with `changes` applied (unknown names raise TypeError)."""
        return replace(self, **changes)


class FaultInjector:
    """Draws faults for one scope; cheap enough to call on every request."""

    def __init__(
        self,
        settings: FaultSettings | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings or FaultSettings()
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._throttle_left = 0
        self.counts: dict[str, int] = {"error": 0, "drop": 0, "throttle": 0}

    @property
    def throttle_pending(self) -> int:
        """How many requests of the current throttle burst are still to be throttled."""
        return self._throttle_left

    def arm_throttle(self, requests: int) -> None:
        """Throttle the next `requests` requests (a burst); 0 cancels a pending burst."""
        if requests < 0:
            raise ValueError("throttle burst must be >= 0")
        self._throttle_left = requests

    async def delay(self) -> None:
        """Sleep for the configured latency plus a uniform draw in [0, jitter]."""
        s = self.settings
        if s.latency_ms <= 0 and s.jitter_ms <= 0:
            return
        ms = s.latency_ms + (self._rng.uniform(0.0, s.jitter_ms) if s.jitter_ms > 0 else 0.0)
        await self._sleep(ms / 1000.0)

    def decide(self, is_write: bool) -> Decision:
        """Decide the fate of one request; counts every injected fault."""
        if self._throttle_left > 0:
            self._throttle_left -= 1
            self.counts["throttle"] += 1
            return Decision.THROTTLE
        s = self.settings
        if s.error_rate > 0 and self._rng.random() < s.error_rate:
            self.counts["error"] += 1
            return Decision.ERROR
        if is_write and s.drop_rate > 0 and self._rng.random() < s.drop_rate:
            self.counts["drop"] += 1
            return Decision.DROP
        return Decision.PASS

    def error_status(self) -> int:
        """A 5xx status drawn from `settings.error_statuses`."""
        return self._rng.choice(self.settings.error_statuses)


async def send_error(
    send: Send, status: int, factory: ErrorBodyFactory, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """Send a complete error response whose body and content type come from `factory(status)`."""
    body, content_type = factory(status)
    raw_headers = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode("ascii")),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def drop_response(send: Send, mode: DropMode, hang_s: float = 30.0) -> None:
    """Lose the response of an applied write.

    "reset": announce a body and never send it; the server then closes the connection and the client sees
    the connection die mid-response (httpx: RemoteProtocolError), as on a network cut.
    "502": a bare 502 Bad Gateway with a text body, as a load balancer answers when the upstream vanished.
    "hang": say nothing for `hang_s` seconds (the client's read timeout fires), then as "reset".
    """
    if mode == "hang":
        await asyncio.sleep(hang_s)
    if mode == "502":
        body = b"Bad Gateway"
        await send(
            {
                "type": "http.response.start",
                "status": 502,
                "headers": [
                    (b"content-type", b"text/plain"),
                    (b"content-length", b"11"),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"1024")],
        }
    )
    # Returning without the body makes the server close the connection: the client never gets a response.
