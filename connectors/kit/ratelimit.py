"""Per-connection request budgets, for any provider: in-process (rate + concurrency) and, for several
workers, in the database. The key is the provider's tenant (a QuickBooks realm id, a Xero tenant id).

The budgets come from the provider's declaration (`Limits.from_rate`); QuickBooks allows per company
(realm) 500 requests a minute, 10 at a time, and 40 batch requests a minute (the defaults here).

* `RealmLimiter` keeps those limits inside one process: a sliding one-minute window per bucket and a
  semaphore for concurrency. `acquire()` blocks until a request may go and holds a slot while it runs.
  Everything in a process shares one limiter per realm through `LimiterRegistry` / `shared_limiter`.
* `DatabaseBudget` shares the per-minute budget between every worker: fixed one-minute windows counted in
  `rate_limit_windows` with one atomic `INSERT … ON CONFLICT DO UPDATE SET count = count + 1 RETURNING count`;
  a worker whose increment lands past the budget waits for the next window.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from connectors.kit.provider import Rate
from sierra_core.db.models.integration import RateLimitWindow

__all__ = [
    "ChainedLimiter",
    "DatabaseBudget",
    "Limiter",
    "LimiterRegistry",
    "Limits",
    "NoLimiter",
    "Pausable",
    "RealmLimiter",
    "shared_limiter",
]

REQUESTS = "requests"
BATCH = "batch"


class Limiter(Protocol):
    """What the client needs: a context manager entered around every HTTP attempt."""

    def acquire(self, *, batch: bool = False) -> AbstractContextManager[None]:
        """Block until one request (a batch request when `batch`) may be sent; hold a slot while inside."""
        ...


@runtime_checkable
class Pausable(Protocol):
    """A limiter that can hold every request of the realm back (after a 429: QBO wants 60 s of quiet)."""

    def pause(self, seconds: float) -> None:
        """Let no request of this realm start for `seconds`."""
        ...


class NoLimiter:
    """No limits (tests, one-off scripts)."""

    def acquire(self, *, batch: bool = False) -> AbstractContextManager[None]:
        """Return at once."""
        return nullcontext()


@dataclass(frozen=True)
class Limits:
    """Per-realm budgets (Intuit's published numbers by default); 0 disables a limit."""

    requests_per_minute: int = 500
    concurrent: int = 10
    batch_per_minute: int = 40
    window_s: float = 60.0
    # We stamp a request before sending it, QuickBooks when it arrives: with uneven delays, 40 requests in
    # our 60 s can be 41 in theirs, and every 429 costs a 60 s pause. Pace on a slightly longer window.
    margin_s: float = 1.5

    @classmethod
    def from_rate(cls, rate: Rate) -> Limits:
        """The per-minute budgets and concurrency a provider declares."""
        return cls(
            requests_per_minute=rate.requests_per_minute,
            concurrent=rate.concurrent,
            batch_per_minute=rate.batch_per_minute,
        )

    @classmethod
    def app_from_rate(cls, rate: Rate) -> Limits | None:
        """The budget every connection of the app shares (Xero: 10,000 a minute), or None without one."""
        if rate.app_requests_per_minute <= 0:
            return None
        return cls(requests_per_minute=rate.app_requests_per_minute, concurrent=0, batch_per_minute=0)


class _SlidingWindow:
    """At most `limit` events in any `window_s` seconds (in this process)."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._events: deque[float] = deque()
        self._lock = threading.Lock()

    def try_take(self) -> float:
        """0.0 if an event was recorded now; else the seconds until one may be."""
        if self.limit <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            while self._events and self._events[0] <= now - self.window_s:
                self._events.popleft()
            if len(self._events) < self.limit:
                self._events.append(now)
                return 0.0
            return max(self._events[0] + self.window_s - now, 0.001)


class RealmLimiter:
    """The request budget of one realm in this process, optionally backed by a `DatabaseBudget`."""

    def __init__(
        self,
        realm_id: str,
        limits: Limits | None = None,
        *,
        budget: DatabaseBudget | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.realm_id = realm_id
        self.limits = limits or Limits()
        self.budget = budget
        self._sleep = sleep
        self._clock = clock
        self._paused_until = 0.0
        self._pause_lock = threading.Lock()
        paced = self.limits.window_s + self.limits.margin_s
        self._requests = _SlidingWindow(self.limits.requests_per_minute, paced, clock)
        self._batches = _SlidingWindow(self.limits.batch_per_minute, paced, clock)
        concurrent = self.limits.concurrent
        self._slots: threading.BoundedSemaphore | None = (
            threading.BoundedSemaphore(concurrent) if concurrent > 0 else None
        )

    def pause(self, seconds: float) -> None:
        """Hold every request of this realm in this process back for `seconds` (called on a 429)."""
        with self._pause_lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _wait_pause(self) -> None:
        while (wait := self._paused_until - self._clock()) > 0:
            self._sleep(wait)

    def _take(self, window: _SlidingWindow) -> None:
        while (wait := window.try_take()) > 0:
            self._sleep(wait)

    @contextmanager
    def acquire(self, *, batch: bool = False) -> Iterator[None]:
        """Wait out a pause, the per-minute budgets (local, then shared), then a concurrency slot; hold it."""
        self._wait_pause()
        self._take(self._requests)
        if batch:
            self._take(self._batches)
        if self.budget is not None:
            self.budget.take(REQUESTS)
            if batch:
                self.budget.take(BATCH)
        if self._slots is None:
            yield
            return
        self._slots.acquire()
        try:
            yield
        finally:
            self._slots.release()


class ChainedLimiter:
    """Several limiters entered in order around each request: a tenant's budget, then the app's (a request
    holds a slot of each). `pause` pauses the first (the tenant's); the others are in `limiters`."""

    def __init__(self, *limiters: Limiter) -> None:
        if not limiters:
            raise ValueError("a chain needs at least one limiter")
        self.limiters = limiters

    @contextmanager
    def acquire(self, *, batch: bool = False) -> Iterator[None]:
        """Acquire every limiter of the chain, first to last; release them in reverse."""
        with ExitStack() as stack:
            for limiter in self.limiters:
                stack.enter_context(limiter.acquire(batch=batch))
            yield

    def pause(self, seconds: float) -> None:
        """Hold back every request of the first limiter (the tenant's) for `seconds`."""
        first = self.limiters[0]
        if isinstance(first, Pausable):
            first.pause(seconds)


class DatabaseBudget:
    """A per-realm budget shared by every worker through `rate_limit_windows` (fixed windows).

    `try_take(bucket)` counts one request in the current window atomically and says how long to wait if
    the window is full; `take(bucket)` waits and tries again in the next window. Windows are aligned to
    the epoch (`window_s` = 60: calendar minutes), so every worker agrees on them up to clock skew.
    """

    def __init__(
        self,
        engine: Engine,
        realm_id: str,
        *,
        requests_per_minute: int = 500,
        batch_per_minute: int = 40,
        window_s: float = 60.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.engine = engine
        self.realm_id = realm_id
        self.limits = {REQUESTS: requests_per_minute, BATCH: batch_per_minute}
        self.window_s = window_s
        self._now = now
        self._sleep = sleep
        self._insert: Any = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    def window_start(self, at: datetime) -> datetime:
        """The start of the window holding `at`."""
        ts = at.timestamp()
        return datetime.fromtimestamp(ts - ts % self.window_s, UTC)

    def _increment(self, bucket: str, start: datetime) -> int:
        table = RateLimitWindow.__table__
        stmt = (
            self._insert(table)
            .values(realm_id=self.realm_id, bucket=bucket, window_start=start, count=1)
            .on_conflict_do_update(
                index_elements=[table.c.realm_id, table.c.bucket, table.c.window_start],
                set_={"count": table.c.count + 1},
            )
            .returning(table.c.count)
        )
        with self.engine.begin() as conn:
            return int(conn.execute(stmt).scalar_one())

    def try_take(self, bucket: str = REQUESTS) -> float:
        """0.0 when this request fits the current window; else the seconds until the window ends."""
        limit = self.limits[bucket]
        if limit <= 0:
            return 0.0
        now = self._now()
        start = self.window_start(now)
        if self._increment(bucket, start) <= limit:
            return 0.0
        end = start + timedelta(seconds=self.window_s)
        return max((end - now).total_seconds(), 0.001)

    def take(self, bucket: str = REQUESTS) -> None:
        """Count one request, waiting for a later window while the current one is full."""
        while (wait := self.try_take(bucket)) > 0:
            self._sleep(wait)

    def used(self, bucket: str = REQUESTS, at: datetime | None = None) -> int:
        """How many requests were counted in the window holding `at` (now by default)."""
        start = self.window_start(at or self._now())
        query = select(RateLimitWindow.count).where(
            RateLimitWindow.realm_id == self.realm_id,
            RateLimitWindow.bucket == bucket,
            RateLimitWindow.window_start == start,
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def prune(self, older_than: timedelta = timedelta(hours=1)) -> int:
        """Delete this realm's windows that ended long ago; returns how many rows went."""
        cutoff = self._now() - older_than
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(RateLimitWindow).where(
                    RateLimitWindow.realm_id == self.realm_id, RateLimitWindow.window_start < cutoff
                )
            )
            return int(result.rowcount or 0)


class LimiterRegistry:
    """One `RealmLimiter` per realm, created on first use; share one registry per process."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._limiters: dict[str, RealmLimiter] = {}
        self._lock = threading.Lock()

    def for_realm(self, realm_id: str, *, engine: Engine | None = None) -> RealmLimiter:
        """The realm's limiter; with `engine`, backed by a `DatabaseBudget` shared with other workers."""
        with self._lock:
            limiter = self._limiters.get(realm_id)
            if limiter is None:
                limiter = RealmLimiter(realm_id, self.limits)
                self._limiters[realm_id] = limiter
            if engine is not None and limiter.budget is None:
                limiter.budget = DatabaseBudget(
                    engine,
                    realm_id,
                    requests_per_minute=self.limits.requests_per_minute,
                    batch_per_minute=self.limits.batch_per_minute,
                    window_s=self.limits.window_s,
                )
            return limiter


_PROCESS_REGISTRIES: dict[Limits, LimiterRegistry] = {}
_REGISTRIES_LOCK = threading.Lock()


def shared_limiter(
    realm_id: str, *, engine: Engine | None = None, limits: Limits | None = None
) -> RealmLimiter:
    """The process-wide limiter of `realm_id` under `limits` (QuickBooks' by default): what flows and tasks
    pass as `limiter=`."""
    limits = limits or Limits()
    with _REGISTRIES_LOCK:
        registry = _PROCESS_REGISTRIES.setdefault(limits, LimiterRegistry(limits))
    return registry.for_realm(realm_id, engine=engine)
