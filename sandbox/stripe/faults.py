"""Fault injection for the API routes: latency with jitter, 5xx before acting, apply-then-drop, throttling.

A small local layer with the knobs the QuickBooks sandbox uses (latency_ms, jitter_ms, error_rate, drop_rate,
throttle), kept behind `FaultInjector` so it can be swapped for a shared implementation.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sandbox.stripe.options import ThrottleOptions


@dataclass
class FaultSettings:
    """Current fault knobs (changed at run time by POST /__sandbox/faults)."""

    latency_ms: int = 0
    jitter_ms: int = 0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    drop_mode: str = "500"  # "500": Stripe's api_error body; "reset": the connection dies mid-response
    throttle: ThrottleOptions | None = None

    def update(self, data: Mapping[str, Any]) -> None:
        """Apply a partial update; raise ValueError naming the bad field."""
        unknown = set(data) - {"latency_ms", "jitter_ms", "error_rate", "drop_rate", "drop_mode", "throttle"}
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        changes = dict(self.__dict__)
        for name in ("latency_ms", "jitter_ms"):
            if name in data:
                value = data[name]
                if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                    raise ValueError(f"{name} must be a number >= 0")
                changes[name] = int(value)
        for name in ("error_rate", "drop_rate"):
            if name in data:
                value = data[name]
                if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
                    raise ValueError(f"{name} must be a number between 0 and 1")
                changes[name] = float(value)
        if "drop_mode" in data:
            if data["drop_mode"] not in ("500", "reset"):
                raise ValueError("drop_mode must be '500' or 'reset'")
            changes["drop_mode"] = data["drop_mode"]
        if "throttle" in data and not isinstance(data["throttle"], int):
            changes["throttle"] = _throttle(data["throttle"])
        self.__dict__.update(changes)

    def as_dict(self) -> dict[str, Any]:
        """JSON view of the settings."""
        return asdict(self)


def throttle_burst(data: Mapping[str, Any]) -> int | None:
    """`throttle: N` (an integer) asks for a burst: the next N requests get 429."""
    raw = data.get("throttle")
    if isinstance(raw, bool) or not isinstance(raw, int):
        return None
    if raw < 0:
        raise ValueError("throttle burst must be >= 0")
    return raw


def _throttle(raw: Any) -> ThrottleOptions | None:
    if raw is None or raw is False:
        return None
    if not isinstance(raw, Mapping):
        raise ValueError("throttle must be null or {limit, window_seconds}")
    limit, window = raw.get("limit"), raw.get("window_seconds", 1.0)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise ValueError("throttle.limit must be an integer >= 0")
    if not isinstance(window, int | float) or isinstance(window, bool) or window <= 0:
        raise ValueError("throttle.window_seconds must be a number > 0")
    return ThrottleOptions(limit=limit, window_seconds=float(window))


class FaultInjector:
    """Decides, request by request, which fault (if any) to inject; counts what it did."""

    def __init__(self, settings: FaultSettings, rng: random.Random) -> None:
        self.settings = settings
        self._rng = rng
        self._recent: deque[float] = deque()
        self.burst_left = 0
        self.throttled = 0
        self.faults_injected = 0

    async def delay(self) -> None:
        """Sleep latency_ms ± jitter_ms."""
        ms = float(self.settings.latency_ms)
        if self.settings.jitter_ms:
            ms += self._rng.uniform(-self.settings.jitter_ms, self.settings.jitter_ms)
        if ms > 0:
            await asyncio.sleep(ms / 1000)

    def throttle_hit(self) -> bool:
        """True when this request is throttled: part of an armed burst, or over the sliding-window budget."""
        if self.burst_left > 0:
            self.burst_left -= 1
            self.throttled += 1
            return True
        throttle = self.settings.throttle
        if throttle is None:
            return False
        now = time.monotonic()
        while self._recent and self._recent[0] <= now - throttle.window_seconds:
            self._recent.popleft()
        if len(self._recent) >= throttle.limit:
            self.throttled += 1
            return True
        self._recent.append(now)
        return False

    def error_before(self) -> bool:
        """True: answer 500 without doing anything."""
        return self._draw(self.settings.error_rate)

    def drop_after(self) -> bool:
        """True: the request was applied, but the client gets a 500 instead of the answer."""
        return self._draw(self.settings.drop_rate)

    def reset_counters(self) -> None:
        """Zero the counters and the throttle window."""
        self._recent.clear()
        self.burst_left = 0
        self.throttled = 0
        self.faults_injected = 0

    def _draw(self, rate: float) -> bool:
        if rate > 0 and self._rng.random() < rate:
            self.faults_injected += 1
            return True
        return False
