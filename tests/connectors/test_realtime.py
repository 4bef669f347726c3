"""CompanyWorkers: one sync at a time per company, companies in parallel, edits made during a sync coalesce
into one more sync, a failure stays with its company."""

from __future__ import annotations

import threading
import time
import uuid

from connectors.realtime import CompanyWorkers, SyncDone

A, B = uuid.uuid4(), uuid.uuid4()


def test_changes_during_a_sync_coalesce_into_one_more_sync():
    started = threading.Event()
    release = threading.Event()
    calls: list[uuid.UUID] = []
    done: list[SyncDone] = []

    def run(company_id: uuid.UUID) -> str:
        calls.append(company_id)
        if len(calls) == 1:
            started.set()
            assert release.wait(10)
        return f"sync {len(calls)}"

    with CompanyWorkers(run, max_workers=4, on_done=done.append) as workers:
        first_seen = time.monotonic()
        workers.submit(A, seen_at=first_seen)
        assert started.wait(10)
        later = time.monotonic()
        for _ in range(5):  # five more edits while the first sync runs
            workers.submit(A, seen_at=later)
        assert workers.running() == [A]
        release.set()
        assert workers.wait_idle(10)
    assert calls == [A, A]  # one sync for the first change, one for the five that came during it
    assert [d.coalesced for d in done] == [1, 5]
    assert [d.result for d in done] == ["sync 1", "sync 2"]
    assert done[0].seen_at == first_seen and done[1].seen_at == later
    assert done[1].started_at >= done[0].finished_at  # never two syncs of one company at once


def test_companies_sync_in_parallel_and_a_failure_stays_with_its_company():
    both_running = threading.Barrier(2, timeout=10)  # passes only if A's and B's syncs overlap

    def run(company_id: uuid.UUID) -> str:
        both_running.wait()
        if company_id == B:
            raise RuntimeError("QuickBooks said no")
        return "ok"

    done: dict[uuid.UUID, SyncDone] = {}
    with CompanyWorkers(run, max_workers=2, on_done=lambda d: done.__setitem__(d.company_id, d)) as workers:
        workers.submit(A)
        workers.submit(B)
        assert workers.wait_idle(10)
    assert done[A].error is None and done[A].result == "ok"
    assert isinstance(done[B].error, RuntimeError)
    assert done[A].latency >= 0


def test_after_stop_nothing_new_starts_and_the_running_sync_finishes():
    started, release = threading.Event(), threading.Event()
    calls: list[uuid.UUID] = []

    def run(company_id: uuid.UUID) -> None:
        calls.append(company_id)
        started.set()
        release.wait(10)

    workers = CompanyWorkers(run, max_workers=2)
    workers.submit(A)
    assert started.wait(10)
    workers.submit(A)  # dirty: would run again ...
    stopper = threading.Thread(target=workers.stop)
    stopper.start()
    time.sleep(0.05)
    assert workers.submit(B) is False  # ... but once stopping, nothing new starts
    release.set()
    stopper.join(10)
    assert calls == [A]
    assert workers.running() == []


def test_a_broken_reporter_does_not_leave_the_company_busy():
    def report(_: SyncDone) -> None:
        raise ValueError("reporting bug")

    with CompanyWorkers(lambda _: None, on_done=report) as workers:
        workers.submit(A)
        assert workers.wait_idle(10)
        assert workers.submit(A)
        assert workers.wait_idle(10)
