"""Rate limits: the in-process per-realm limiter and the database budget shared by workers."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from connectors.kit.ratelimit import (
    DatabaseBudget,
    LimiterRegistry,
    Limits,
    RealmLimiter,
    shared_limiter,
)
from sierra_core.db.models.integration import RateLimitWindow


class FakeClock:
    """A monotonic clock that only moves when something sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_requests_per_minute_blocks_until_the_window_slides():
    clock = FakeClock()
    limiter = RealmLimiter("r1", Limits(requests_per_minute=5, concurrent=0), clock=clock, sleep=clock.sleep)
    for _ in range(5):
        with limiter.acquire():
            clock.now += 1
    assert clock.sleeps == []
    with limiter.acquire():
        pass
    # the first request (t=1000) leaves the window at 1060, plus the safety margin against skew
    assert clock.sleeps == [pytest.approx(55.0 + Limits().margin_s)]


def test_batch_budget_is_separate_and_also_counts_as_a_request():
    clock = FakeClock()
    limiter = RealmLimiter(
        "r1",
        Limits(requests_per_minute=100, batch_per_minute=2, concurrent=0),
        clock=clock,
        sleep=clock.sleep,
    )
    for _ in range(10):
        with limiter.acquire():
            pass
    with limiter.acquire(batch=True), limiter.acquire(batch=True):
        pass
    assert clock.sleeps == []
    with limiter.acquire(batch=True):
        pass
    assert clock.sleeps == [pytest.approx(60.0 + Limits().margin_s)]


def test_concurrency_is_capped():
    limiter = RealmLimiter("r1", Limits(requests_per_minute=0, concurrent=3))
    inside = 0
    peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal inside, peak
        with limiter.acquire():
            with lock:
                inside += 1
                peak = max(peak, inside)
            time.sleep(0.01)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 3


def test_registry_shares_one_limiter_per_realm():
    registry = LimiterRegistry()
    assert registry.for_realm("a") is registry.for_realm("a")
    assert registry.for_realm("a") is not registry.for_realm("b")
    assert shared_limiter("realm-x") is shared_limiter("realm-x")


# ---------------------------------------------------------------- database budget (SQLite and PostgreSQL)


class FrozenNow:
    def __init__(self, at: datetime) -> None:
        self.at = at
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.at += timedelta(seconds=seconds)


def test_budget_counts_in_fixed_windows_and_waits_for_the_next(db):
    now = FrozenNow(datetime(2025, 6, 1, 12, 0, 45, tzinfo=UTC))
    budget = DatabaseBudget(db.engine, "realm-1", requests_per_minute=3, now=now, sleep=now.sleep)
    for _ in range(3):
        budget.take()
    assert now.sleeps == []
    assert budget.used() == 3
    budget.take()  # fourth: waits 15 s for 12:01:00
    assert now.sleeps == [pytest.approx(15.0)]
    assert budget.used() == 1
    with db.engine.connect() as conn:
        rows = conn.execute(select(RateLimitWindow.window_start, RateLimitWindow.count)).all()
    counts = {start.astimezone(UTC).replace(tzinfo=UTC): count for start, count in rows}
    assert counts[datetime(2025, 6, 1, 12, 0, tzinfo=UTC)] == 4  # the refused try is counted, never granted
    assert counts[datetime(2025, 6, 1, 12, 1, tzinfo=UTC)] == 1


def test_budget_buckets_and_realms_are_separate(db):
    now = FrozenNow(datetime(2025, 6, 1, 12, 0, tzinfo=UTC))
    a = DatabaseBudget(db.engine, "a", requests_per_minute=1, batch_per_minute=1, now=now, sleep=now.sleep)
    b = DatabaseBudget(db.engine, "b", requests_per_minute=1, now=now, sleep=now.sleep)
    assert a.try_take("requests") == 0.0
    assert a.try_take("batch") == 0.0
    assert b.try_take("requests") == 0.0
    assert a.try_take("requests") == pytest.approx(60.0)


def test_prune_removes_old_windows(db):
    now = FrozenNow(datetime(2025, 6, 1, 12, 0, tzinfo=UTC))
    budget = DatabaseBudget(db.engine, "a", now=now, sleep=now.sleep)
    budget.take()
    now.at += timedelta(hours=2)
    budget.take()
    assert budget.prune() == 1
    assert budget.used() == 1


def test_threads_never_exceed_the_budget_in_a_window(db):
    """8 workers race for 25 slots of one window: exactly 25 are granted, on both dialects."""
    now = FrozenNow(datetime(2025, 6, 1, 12, 0, 30, tzinfo=UTC))
    granted: list[int] = []
    refused: list[int] = []
    barrier = threading.Barrier(8)

    def worker(n: int) -> None:
        budget = DatabaseBudget(db.engine, "shared", requests_per_minute=25, now=now, sleep=now.sleep)
        barrier.wait()
        for _ in range(6):
            (granted if budget.try_take() == 0.0 else refused).append(n)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 25
    assert len(refused) == 48 - 25


def test_realm_limiter_with_database_budget(db):
    now = FrozenNow(datetime(2025, 6, 1, 12, 0, 50, tzinfo=UTC))
    budget = DatabaseBudget(
        db.engine, "r", requests_per_minute=2, batch_per_minute=1, now=now, sleep=now.sleep
    )
    limiter = RealmLimiter(
        "r", Limits(requests_per_minute=0, concurrent=2, batch_per_minute=0), budget=budget
    )
    with limiter.acquire(batch=True):
        pass
    with limiter.acquire():
        pass
    assert now.sleeps == []
    with limiter.acquire():
        pass
    assert now.sleeps == [pytest.approx(10.0)]


def test_pause_holds_every_request_of_the_realm():
    clock = FakeClock()
    limiter = RealmLimiter("r1", Limits(concurrent=0), clock=clock, sleep=clock.sleep)
    limiter.pause(30)
    limiter.pause(10)  # a shorter pause never shortens a longer one
    with limiter.acquire():
        pass
    assert clock.sleeps == [pytest.approx(30.0)]


def test_a_429_pauses_the_shared_limiter():
    import httpx

    from tests.connectors.quickbooks.qbo_fakes import json_response, make_client

    clock = FakeClock()
    limiter = RealmLimiter("r1", Limits(concurrent=0), clock=clock, sleep=clock.sleep)
    answers = [httpx.Response(429, headers={"Retry-After": "20"}), json_response(200, {"Item": {"Id": "1"}})]
    with make_client(lambda request: answers.pop(0), limiter=limiter) as qbo:
        assert qbo.read("Item", "1") == {"Id": "1"}
    assert clock.sleeps == [pytest.approx(20.0)]  # the retry (and any other thread) waited in the limiter
