"""Throttling per scope (a tenant): requests per minute (and optionally per second), concurrent requests,
batch requests per minute; the shape of Intuit's limits, which most providers' are a subset of.

Sliding 60-second windows on the sandbox clock (tests advance it instead of waiting). A throttled request
does not count toward the window. Limits can change per scope at run time (POST /__sandbox/limits).
A provider adds its own switches by subclassing `Limits` with more bool or int fields (QBO: throttle_xml).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, fields, replace
from typing import Any

from sandbox.kit.clock import Clock

__all__ = ["Limiter", "Limits"]

WINDOW_S = 60.0


@dataclass(frozen=True)
class Limits:
    """The limits of one scope; 0 disables a limit."""

    requests_per_minute: int = 500
    requests_per_second: int = 0
    concurrent_requests: int = 10
    batch_requests_per_minute: int = 40
    batch_items_count_toward_limit: bool = False

    def updated(self, changes: dict[str, Any]) -> Limits:
        """A copy with `changes` (validated by each field's type: ints >= 0, bools)."""
        kinds = {f.name: f.type for f in fields(self)}
        clean: dict[str, Any] = {}
        for key, value in changes.items():
            kind = kinds.get(key)
            if kind in (int, "int"):
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise ValueError(f"{key} must be an integer >= 0")
                clean[key] = value
            elif kind in (bool, "bool"):
                if not isinstance(value, bool):
                    raise ValueError(f"{key} must be true or false")
                clean[key] = value
            else:
                raise ValueError(f"unknown limit {key}")
        return replace(self, **clean)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Limiter:
    """Admission control; all calls happen on the event loop thread."""

    def __init__(self, clock: Clock, default: Limits) -> None:
        self.clock = clock
        self.default = default
        self.per_scope: dict[str, Limits] = {}
        self._requests: dict[str, deque[float]] = {}
        self._batches: dict[str, deque[float]] = {}
        self._second: dict[str, deque[float]] = {}
        self.inflight: dict[str, int] = {}

    def limits(self, scope: str) -> Limits:
        """The limits in force for a scope."""
        return self.per_scope.get(scope, self.default)

    @staticmethod
    def _trim(window: deque[float], now: float) -> None:
        while window and window[0] <= now - WINDOW_S:
            window.popleft()

    def admit(self, scope: str, batch_items: int | None) -> bool:
        """Count one request (a batch when `batch_items` is not None); False when it must be throttled."""
        limits = self.limits(scope)
        now = self.clock.timestamp()
        requests = self._requests.get(scope)
        if requests is None:
            requests = self._requests[scope] = deque()
        self._trim(requests, now)
        weight = 1
        if batch_items is not None and limits.batch_items_count_toward_limit:
            weight = max(1, batch_items)
        if limits.requests_per_minute and len(requests) + weight > limits.requests_per_minute:
            return False
        if limits.requests_per_second:
            second = self._second.get(scope)
            if second is None:
                second = self._second[scope] = deque()
            while second and second[0] <= now - 1.0:
                second.popleft()
            if len(second) >= limits.requests_per_second:
                return False
            second.append(now)
        if batch_items is not None:
            batches = self._batches.get(scope)
            if batches is None:
                batches = self._batches[scope] = deque()
            self._trim(batches, now)
            if limits.batch_requests_per_minute and len(batches) >= limits.batch_requests_per_minute:
                return False
            batches.append(now)
        requests.extend([now] * weight)
        return True

    def enter(self, scope: str) -> bool:
        """Start a request; False when the scope already has its maximum of concurrent requests."""
        limit = self.limits(scope).concurrent_requests
        current = self.inflight.get(scope, 0)
        if limit and current >= limit:
            return False
        self.inflight[scope] = current + 1
        return True

    def leave(self, scope: str) -> None:
        """End a request started with `enter`."""
        self.inflight[scope] = max(0, self.inflight.get(scope, 1) - 1)

    def reset(self) -> None:
        """Forget windows and per-realm limits."""
        self.per_scope.clear()
        self._requests.clear()
        self._batches.clear()
        self._second.clear()
        self.inflight.clear()
