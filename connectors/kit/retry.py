"""Layer-1 retries for every provider client: the same request (same idempotency key) again, with
exponential backoff and jitter, honouring the provider's Retry-After, only for errors marked retryable.

    policy = RetryPolicy(max_attempts=4)
    result = run_with_retries(policy, attempt, on_retry=lambda err, wait, n: log.warning(...))
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from connectors.kit.errors import ProviderError

__all__ = ["RetryPolicy", "run_with_retries"]

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """`max_attempts` tries in all; waits of initial_wait·2ⁿ (1 s, 2 s, 4 s …, capped at `max_wait`) plus up
    to `jitter` s. When the provider says how long to wait (Retry-After), that is waited instead, capped at
    `max_server_wait`. `sleep` is injectable so tests do not wait."""

    max_attempts: int = 4
    initial_wait: float = 1.0
    max_wait: float = 30.0
    jitter: float = 0.5
    max_server_wait: float = 300.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def wait_seconds(self, attempt_number: int, retry_after: float | None = None) -> float:
        """How long to wait after failed attempt `attempt_number` (1-based)."""
        if retry_after is not None:
            return min(float(retry_after), self.max_server_wait)
        base = min(self.initial_wait * 2.0 ** (attempt_number - 1), self.max_wait)
        return float(base + self.rng.uniform(0, self.jitter))


OnRetry = Callable[[ProviderError, float, int], None]


def _error(state: RetryCallState) -> ProviderError | None:
    exc = state.outcome.exception() if state.outcome else None
    return exc if isinstance(exc, ProviderError) else None


def run_with_retries(policy: RetryPolicy, attempt: Callable[[], T], on_retry: OnRetry | None = None) -> T:
    """`attempt()` until it succeeds, raises something not retryable, or `policy.max_attempts` are spent
    (then the last error is raised). `on_retry(error, wait_seconds, attempt_number)` runs before each wait."""

    def wait(state: RetryCallState) -> float:
        err = _error(state)
        return policy.wait_seconds(state.attempt_number, err.retry_after if err else None)

    def before_sleep(state: RetryCallState) -> None:
        err = _error(state)
        if on_retry is not None and err is not None:
            on_retry(err, state.next_action.sleep if state.next_action else 0.0, state.attempt_number)

    retrying = Retrying(
        stop=stop_after_attempt(max(1, policy.max_attempts)),
        wait=wait,
        retry=retry_if_exception(lambda exc: isinstance(exc, ProviderError) and exc.retryable),
        sleep=policy.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(attempt)
