"""Fault injection for the /v1 routes.

The shared `sandbox.common.faults` injector does latency with jitter, 5xx before acting, apply-then-drop
(`drop_mode` "reset": the connection dies mid-response; "502": a bare Bad Gateway) and throttle bursts
(`throttle: N`, the next N requests get 429). Stripe-only on top: `rate_limit`, a sliding-window budget
(more than `limit` requests in `window_seconds` get 429), as Stripe's own rate limiter behaves.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from sandbox.common.faults import Decision, FaultInjector, FaultSettings
from sandbox.kit.faults import FaultBoard, parse_fault_changes
from sandbox.stripe.options import StripeSandboxOptions, ThrottleOptions

__all__ = ["Decision", "StripeFaults"]

_API = ""  # the board's one scope: Stripe's faults apply to every account alike
_KNOBS = ("latency_ms", "jitter_ms", "error_rate", "drop_rate", "drop_mode")


def initial_settings(options: StripeSandboxOptions) -> FaultSettings:
    """The fault settings the options ask for (validated by the shared module)."""
    return FaultSettings(
        latency_ms=float(options.latency_ms),
        jitter_ms=float(options.jitter_ms),
        error_rate=float(options.error_rate),
        drop_rate=float(options.drop_rate),
        drop_mode=options.drop_mode,
    )


class StripeFaults:
    """The kit's fault board (one injector: the API's, for every account) plus Stripe's sliding-window rate
    limit. The state hands `board` to its kit; what it injected is counted on the kit's stats."""

    def __init__(
        self, settings: FaultSettings, rate_limit: ThrottleOptions | None, rng: random.Random
    ) -> None:
        self.board = FaultBoard(settings, rng)
        self.rate_limit = rate_limit
        self._recent: deque[float] = deque()

    @property
    def injector(self) -> FaultInjector:
        """The injector every API request draws from."""
        return self.board.injector(_API)

    def over_rate_limit(self) -> bool:
        """True when this request goes over the sliding-window budget."""
        if self.rate_limit is None:
            return False
        now = time.monotonic()
        while self._recent and self._recent[0] <= now - self.rate_limit.window_seconds:
            self._recent.popleft()
        if len(self._recent) >= self.rate_limit.limit:
            return True
        self._recent.append(now)
        return False

    def update(self, body: Mapping[str, Any]) -> None:
        """Apply POST /__sandbox/faults; ValueError names the bad field."""
        unknown = set(body) - {*_KNOBS, "throttle", "rate_limit"}
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        changes, throttle = parse_fault_changes(body)
        rate_limit = _rate_limit(body["rate_limit"]) if "rate_limit" in body else self.rate_limit
        self.board.set(_API, changes, throttle)
        self.rate_limit = rate_limit

    def as_dict(self) -> dict[str, Any]:
        """JSON view of the current settings."""
        settings = self.injector.settings
        return {
            **{key: getattr(settings, key) for key in _KNOBS},
            "throttle_pending": self.injector.throttle_pending,
            "rate_limit": None
            if self.rate_limit is None
            else {"limit": self.rate_limit.limit, "window_seconds": self.rate_limit.window_seconds},
        }

    def reset(self, settings: FaultSettings, rate_limit: ThrottleOptions | None) -> None:
        """Back to `settings`, the rate limit's window emptied."""
        self.board.default = settings
        self.board.reset()
        self.rate_limit = rate_limit
        self._recent.clear()


def _rate_limit(raw: Any) -> ThrottleOptions | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValueError("rate_limit must be null or {limit, window_seconds}")
    limit, window = raw.get("limit"), raw.get("window_seconds", 1.0)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError("rate_limit.limit must be an integer >= 0")
    if isinstance(window, bool) or not isinstance(window, int | float) or window <= 0:
        raise ValueError("rate_limit.window_seconds must be a number > 0")
    return ThrottleOptions(limit=limit, window_seconds=float(window))
