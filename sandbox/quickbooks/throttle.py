"""Intuit's throttling per realm: requests per minute (and optionally per second), concurrent requests,
batch requests per minute.

Sliding 60-second windows on the sandbox clock (tests advance it instead of waiting). A throttled request
does not count toward the window. Limits can change per realm at run time (POST /__sandbox/limits).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from sandbox.quickbooks.clock import Clock

__all__ = ["Limiter", "Limits"]

WINDOW_S = 60.0


@dataclass(frozen=True)
class Limits:
    """The limits of one realm; 0 disables a limit."""

    requests_per_minute: int = 500
    requests_per_second: int = 0
    concurrent_requests: int = 10
    batch_requests_per_minute: int = 40
    batch_items_count_toward_limit: bool = False
    throttle_xml: bool = True

    def updated(self, changes: dict[str, Any]) -> Limits:
        """A copy with `changes` (validated: ints >= 0, bools)."""
        clean: dict[str, Any] = {}
        for key, value in changes.items():
            if key in (
                "requests_per_minute",
                "requests_per_second",
                "concurrent_requests",
                "batch_requests_per_minute",
            ):
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise ValueError(f"{key} must be an integer >= 0")
                clean[key] = value
            elif key in ("batch_items_count_toward_limit", "throttle_xml"):
                if not isinstance(value, bool):
                    raise ValueError(f"{key} must be true or false")
                clean[key] = value
            else:
                raise ValueError(f"unknown limit {key}")
        return replace(self, **clean)


class Limiter:
    """Admission control; all calls happen on the event loop thread."""

    def __init__(self, clock: Clock, default: Limits) -> None:
        self.clock = clock
        self.default = default
        self.per_realm: dict[str, Limits] = {}
        self._requests: dict[str, deque[float]] = {}
        self._batches: dict[str, deque[float]] = {}
        self._second: dict[str, deque[float]] = {}
        self.inflight: dict[str, int] = {}

    def limits(self, realm_id: str) -> Limits:
        """The limits in force for a realm."""
        return self.per_realm.get(realm_id, self.default)

    @staticmethod
    def _trim(window: deque[float], now: float) -> None:
        while window and window[0] <= now - WINDOW_S:
            window.popleft()

    def admit(self, realm_id: str, batch_items: int | None) -> bool:
        """Count one request (a batch when `batch_items` is not None); False when it must be throttled."""
        limits = self.limits(realm_id)
        now = self.clock.timestamp()
        requests = self._requests.get(realm_id)
        if requests is None:
            requests = self._requests[realm_id] = deque()
        self._trim(requests, now)
        weight = 1
        if batch_items is not None and limits.batch_items_count_toward_limit:
            weight = max(1, batch_items)
        if limits.requests_per_minute and len(requests) + weight > limits.requests_per_minute:
            return False
        if limits.requests_per_second:
            second = self._second.get(realm_id)
            if second is None:
                second = self._second[realm_id] = deque()
            while second and second[0] <= now - 1.0:
                second.popleft()
            if len(second) >= limits.requests_per_second:
                return False
            second.append(now)
        if batch_items is not None:
            batches = self._batches.get(realm_id)
            if batches is None:
                batches = self._batches[realm_id] = deque()
            self._trim(batches, now)
            if limits.batch_requests_per_minute and len(batches) >= limits.batch_requests_per_minute:
                return False
            batches.append(now)
        requests.extend([now] * weight)
        return True

    def enter(self, realm_id: str) -> bool:
        """Start a request; False when the realm already has its maximum of concurrent requests."""
        limit = self.limits(realm_id).concurrent_requests
        current = self.inflight.get(realm_id, 0)
        if limit and current >= limit:
            return False
        self.inflight[realm_id] = current + 1
        return True

    def leave(self, realm_id: str) -> None:
        """End a request started with `enter`."""
        self.inflight[realm_id] = max(0, self.inflight.get(realm_id, 1) - 1)

    def reset(self) -> None:
        """Forget windows and per-realm limits."""
        self.per_realm.clear()
        self._requests.clear()
        self._batches.clear()
        self._second.clear()
        self.inflight.clear()
