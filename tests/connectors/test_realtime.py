"""CompanyWorkers: one sync at a time per company, companies in parallel, edits made during a sync coalesce
into one more sync, a failure stays with its company."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest

from connectors.realtime import CompanyWorkers, RemoteSyncError, ShardedCompanyWorkers, SyncDone

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


def _intervals(log: Path, company_id: uuid.UUID) -> list[tuple[int, float, float]]:
    """(pid, start, end) of each sync of the company, from the recording sync's log."""
    starts: list[tuple[int, float]] = []
    found: list[tuple[int, float, float]] = []
    for line in log.read_text().splitlines():
        pid, what, company, at, _threads = line.split()
        if company != str(company_id):
            continue
        if what == "start":
            starts.append((int(pid), float(at)))
        else:
            began = starts.pop(0)
            found.append((began[0], began[1], float(at)))
    return found


def test_shards_keep_each_company_in_one_process_one_sync_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    even, odd = uuid.UUID(int=(uuid.uuid4().int >> 1) << 1), uuid.UUID(int=((uuid.uuid4().int >> 1) << 1) | 1)
    log = tmp_path / "syncs.log"
    monkeypatch.setenv("SHARD_TEST_LOG", str(log))
    monkeypatch.setenv("SHARD_TEST_FAIL", str(odd))
    done: list[SyncDone] = []
    lock = threading.Lock()

    def record(finished: SyncDone) -> None:
        with lock:
            done.append(finished)

    factory = "tests.connectors.realtime_shard_sync:recording_sync"
    with ShardedCompanyWorkers(factory, processes=2, threads=3, on_done=record) as workers:
        first = time.monotonic()
        for _ in range(4):  # one sync, then the three other changes ride on one more
            assert workers.submit(even, seen_at=first)
        assert workers.submit(odd)
        deadline = time.monotonic() + 60
        while len(done) < 3:
            assert time.monotonic() < deadline, done
            time.sleep(0.05)
    assert not workers.submit(even)  # stopped: nothing new

    evens = _intervals(log, even)
    assert len(evens) == 2
    assert evens[0][0] == evens[1][0]  # one process for the company
    assert evens[0][2] <= evens[1][1]  # never two syncs of it at once
    odds = _intervals(log, odd)
    assert len(odds) == 1 and odds[0][0] != evens[0][0]  # the other company: the other process
    assert odds[0][1] < evens[0][2] and evens[0][1] < odds[0][2]  # ... at the same time
    by_company = {d.company_id: d for d in done if d.coalesced == 1}
    assert by_company[even].seen_at == first and by_company[even].result == {"pid": evens[0][0]}
    failed = by_company[odd].error
    assert isinstance(failed, RemoteSyncError) and str(failed) == "QuickBooks said no"
    assert sorted(d.coalesced for d in done if d.company_id == even) == [1, 3]
