"""The sync-log store: attempts, durable retries with backoff, recovery of lost workers, counters."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from sierra_core import synclog
from sierra_core.db.engine import session_factory
from sierra_core.db.models import Integration, IntegrationSyncLog
from sierra_core.db.types import utcnow
from sierra_core.redact import REDACTED
from tests import factories

T0 = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def integ(sessions):
    with sessions.begin() as s:
        c = factories.company(s)
        i = factories.integration(s, c.id, connection_status="connected", is_active=True)
        return i.id, c.id


def _start(s, integ, **kw):
    integration_id, company_id = integ
    return synclog.start_attempt(
        s,
        integration_id=integration_id,
        company_id=company_id,
        sync_type="invoice",
        direction="push",
        trigger="manual",
        entity_type="invoice",
        now=kw.pop("now", T0),
        **kw,
    )


def test_success_is_recorded_with_duration_and_counted(sessions, integ):
    with sessions.begin() as s:
        log_id = _start(
            s, integ, request_payload={"Invoice": {"DocNumber": "1001"}, "access_token": "tok-xyz"}
        )
    with sessions.begin() as s:
        synclog.finish_success(
            s,
            log_id,
            external_entity_id="660",
            response_payload={"Invoice": {"Id": "660"}},
            now=T0 + timedelta(milliseconds=850),
        )
    with sessions() as s:
        log = s.get(IntegrationSyncLog, log_id)
        assert log is not None
        assert (log.status, log.duration_ms, log.external_entity_id) == ("success", 850, "660")
        assert log.request_payload == {"Invoice": {"DocNumber": "1001"}, "access_token": REDACTED}
        integration = s.get(Integration, integ[0])
        assert integration is not None
        assert (integration.total_syncs, integration.successful_syncs, integration.failed_syncs) == (1, 1, 0)
        assert integration.avg_sync_duration_ms == 850
        assert integration.last_sync_status == "success"
        assert integration.last_sync_at == T0 + timedelta(milliseconds=850)


def test_retryable_failures_back_off_1_2_4_then_fail(sessions, integ):
    delays = []
    with sessions.begin() as s:
        log_id = _start(s, integ, max_retries=3)
    now = T0
    for expected_status in ("retrying", "retrying", "retrying", "failed"):
        with sessions.begin() as s:
            status = synclog.finish_failure(
                s, log_id, error_code="503", error_message="QuickBooks answered 503", retryable=True, now=now
            )
            log = s.get(IntegrationSyncLog, log_id)
            assert log is not None
            assert status == expected_status == log.status
            if status == "retrying":
                assert log.next_retry_at is not None
                delays.append((log.next_retry_at - now).total_seconds())
                now = log.next_retry_at
            else:
                assert log.next_retry_at is None
        if status == "retrying":
            with sessions.begin() as s:
                assert synclog.list_due_retries(s, now=now - timedelta(milliseconds=1)) == []
                claimed = synclog.claim_due_retries(s, now=now)
                assert len(claimed) == 1
                log_id = claimed[0].new_log_id
    assert delays == [1.0, 2.0, 4.0]
    with sessions() as s:
        rows = s.scalars(select(IntegrationSyncLog).order_by(IntegrationSyncLog.attempt_number)).all()
        assert [r.attempt_number for r in rows] == [1, 2, 3, 4]  # one audit row per attempt
        assert [r.status for r in rows] == ["failed"] * 4
        assert all(r.retried_by_id == n.id for r, n in itertools.pairwise(rows))
        assert [r.id for r in synclog.open_failures(s)] == [rows[-1].id]
        integration = s.get(Integration, integ[0])
        assert integration is not None
        assert (integration.total_syncs, integration.failed_syncs) == (4, 4)


def test_backoff_is_capped():
    policy = synclog.RetryPolicy(base_seconds=1, factor=2, cap_seconds=60)
    assert [policy.delay(n).total_seconds() for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_permanent_failure_does_not_retry_and_message_is_redacted(sessions, integ):
    with sessions.begin() as s:
        log_id = _start(s, integ)
        status = synclog.finish_failure(
            s,
            log_id,
            error_code="6000",
            error_message="QuickBooks rejected the invoice (Bearer eyJabc.defghijklmnop.qrs)",
            retryable=False,
            error_details={"client_secret": "shh"},
            now=T0,
        )
    assert status == "failed"
    with sessions() as s:
        log = s.get(IntegrationSyncLog, log_id)
        assert log is not None
        assert "eyJabc" not in (log.error_message or "")
        assert log.error_details == {"client_secret": REDACTED, "retryable": False}
        assert synclog.list_due_retries(s, now=T0 + timedelta(days=1)) == []


def test_attempt_left_in_progress_by_a_dead_worker_is_recovered(sessions, integ):
    with sessions.begin() as s:
        lost_id = _start(s, integ, now=T0)
        fresh_id = _start(s, integ, now=T0 + timedelta(minutes=14))
    with sessions.begin() as s:
        claimed = synclog.claim_due_retries(
            s, now=T0 + timedelta(minutes=15), stale_after=timedelta(minutes=15)
        )
    assert [c.previous_log_id for c in claimed] == [lost_id]
    assert claimed[0].recovered_from_lost_worker
    with sessions() as s:
        lost = s.get(IntegrationSyncLog, lost_id)
        assert lost is not None
        assert (lost.status, lost.error_code, lost.retried_by_id) == (
            "failed",
            "worker_lost",
            claimed[0].new_log_id,
        )
        fresh = s.get(IntegrationSyncLog, fresh_id)
        assert fresh is not None and fresh.status == "in_progress"


def test_claim_never_hands_out_a_row_twice(sessions, integ):
    with sessions.begin() as s:
        log_id = _start(s, integ)
        synclog.finish_failure(s, log_id, error_code="500", error_message="boom", retryable=True, now=T0)
    with sessions.begin() as s:
        first = synclog.claim_due_retries(s, now=T0 + timedelta(seconds=5))
    with sessions.begin() as s:
        second = synclog.claim_due_retries(s, now=T0 + timedelta(seconds=5))
    assert len(first) == 1
    assert second == []


def test_counters_survive_eight_concurrent_writers(db, integ):
    """8 threads, each with its own connection, finish attempts on one integration at once (PostgreSQL runs
    them truly concurrently; SQLite serialises the writers, and must not lose an increment either)."""
    per_thread = 25
    factory = session_factory(db.engine)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with factory.begin() as s:
                    log_id = _start(s, integ)
                with factory.begin() as s:
                    if (n + i) % 5 == 0:
                        synclog.finish_failure(
                            s, log_id, error_code="500", error_message="x", retryable=False
                        )
                    else:
                        synclog.finish_success(s, log_id)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    expected_failed = sum(1 for n in range(8) for i in range(per_thread) if (n + i) % 5 == 0)
    with factory() as s:
        integration = s.get(Integration, integ[0])
        assert integration is not None
        assert integration.total_syncs == 8 * per_thread
        assert integration.failed_syncs == expected_failed
        assert integration.successful_syncs == 8 * per_thread - expected_failed


def test_running_average_duration(sessions, integ):
    for ms in (100, 200, 600):
        with sessions.begin() as s:
            log_id = _start(s, integ, now=T0)
            synclog.finish_success(s, log_id, now=T0 + timedelta(milliseconds=ms))
    with sessions() as s:
        integration = s.get(Integration, integ[0])
        assert integration is not None
        assert integration.avg_sync_duration_ms == 300


def test_a_lapsed_lease_is_recovered_at_once_a_live_one_never(sessions, integ):
    """A worker renews its attempts' lease while it lives: the sweep takes an attempt whose lease ran out
    (its worker died) at once, long before the old 15-minute rule, and never one whose lease is renewed,
    however old the attempt."""
    with sessions.begin() as s:
        dead_id = _start(s, integ, now=T0, lease_s=20, flow_run_id="run-dead")
        live_id = _start(s, integ, now=T0 - timedelta(hours=2), lease_s=20, flow_run_id="run-live")
    with sessions.begin() as s:
        assert synclog.renew_leases(s, [live_id], 20, now=T0 + timedelta(seconds=15)) == 1
    dead: set[str] = set()
    with sessions.begin() as s:
        assert synclog.leases_alive(s, ["run-dead", "run-live"], now=T0 + timedelta(seconds=21)) == {
            "run-live"
        }
        claimed = synclog.claim_due_retries(
            s, now=T0 + timedelta(seconds=21), lease_s=20, flow_run_id="sweep", dead_flow_runs=dead
        )
    assert [c.previous_log_id for c in claimed] == [dead_id]
    assert claimed[0].recovered_from_lost_worker and dead == {"run-dead"}
    with sessions() as s:
        old = s.get(IntegrationSyncLog, dead_id)
        assert old is not None and (old.error_code, old.lease_expires_at) == ("worker_lost", None)
        successor = s.get(IntegrationSyncLog, claimed[0].new_log_id)
        assert successor is not None and successor.status == "in_progress"
        assert successor.lease_expires_at == T0 + timedelta(seconds=41)  # leased to the sweep's push
        live = s.get(IntegrationSyncLog, live_id)
        assert live is not None and live.status == "in_progress"


def test_renewing_leaves_finished_attempts_alone(sessions, integ):
    with sessions.begin() as s:
        done_id = _start(s, integ, now=T0, lease_s=20)
        synclog.finish_success(s, done_id, now=T0 + timedelta(seconds=1))
    with sessions.begin() as s:
        assert synclog.renew_leases(s, [done_id], 20, now=T0 + timedelta(seconds=5)) == 0
    with sessions() as s:
        row = s.get(IntegrationSyncLog, done_id)
        assert row is not None and (row.status, row.lease_expires_at) == ("success", None)


def test_the_heartbeat_thread_keeps_a_lease_alive_and_stops_with_its_worker(sessions, integ):
    from connectors.accounting.heartbeat import AttemptLeases

    with sessions.begin() as s:
        log_id = _start(s, integ, now=utcnow(), lease_s=0.6)
    leases = AttemptLeases(sessions, 0.6, interval_s=0.1)
    leases.add([log_id])
    with leases:
        deadline = utcnow() + timedelta(seconds=5)
        while leases.renewals < 3 and utcnow() < deadline:
            threading.Event().wait(0.05)
    assert leases.renewals >= 3
    with sessions() as s:
        row = s.get(IntegrationSyncLog, log_id)
        assert row is not None and row.lease_expires_at is not None
        renewed_until = row.lease_expires_at
    assert renewed_until > row.started_at + timedelta(seconds=0.6)  # moved on by the renewals
    with sessions.begin() as s:  # the worker is gone: once the lease passes, the sweep recovers the attempt
        claimed = synclog.claim_due_retries(s, now=renewed_until + timedelta(milliseconds=1))
    assert [c.previous_log_id for c in claimed] == [log_id]


def test_a_renewal_never_waits_for_a_row_another_transaction_holds(db, sessions, integ):
    """PostgreSQL: the worker finishing an attempt holds its row lock; the heartbeat's renewal skips that
    row instead of waiting for it (waiting is how the two deadlocked: issue 18)."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite locks the whole database: a renewal waits for the writer, it cannot deadlock")
    with sessions.begin() as s:
        held_id = _start(s, integ, now=T0, lease_s=20)
        free_id = _start(s, integ, now=T0, lease_s=20)
    holder = sessions()
    try:
        holder.get(IntegrationSyncLog, held_id, with_for_update=True)  # the push finishing this attempt
        with sessions.begin() as s:
            s.execute(text("SET LOCAL lock_timeout = '2s'"))  # waiting would fail the test, not hang it
            assert synclog.renew_leases(s, [held_id, free_id], 20, now=T0 + timedelta(seconds=10)) == 1
    finally:
        holder.rollback()
        holder.close()
    with sessions() as s:
        free = s.get(IntegrationSyncLog, free_id)
        held = s.get(IntegrationSyncLog, held_id)
        assert free is not None and free.lease_expires_at == T0 + timedelta(seconds=30)
        assert held is not None and held.lease_expires_at == T0 + timedelta(seconds=20)


def test_successes_written_together_match_one_at_a_time(sessions, integ):
    """`Successes` (a push's write chunk, closed in one executemany per statement) leaves the rows and the
    integration's counters as `finish_success` one attempt at a time does, and still redacts."""
    integration_id = integ[0]
    with sessions.begin() as s:
        log_ids = [_start(s, integ, now=T0, flush=False) for _ in range(3)]
        assert len(s.new) == 3  # added, not flushed one by one
        s.flush()
    batch = synclog.Successes()
    for n, (log_id, ms) in enumerate(zip(log_ids, (100, 200, 600), strict=True)):
        batch.add(
            log_id,
            started_at=T0,
            integration_id=integration_id,
            external_entity_id=f"ext-{n}" if n else None,
            response_payload={"Invoice": {"Id": str(n)}, "refresh_token": "rt-secret"} if n < 2 else None,
            now=T0 + timedelta(milliseconds=ms),
        )
    with sessions.begin() as s:
        batch.write(s)
    with sessions() as s:
        logs = [s.get(IntegrationSyncLog, log_id) for log_id in log_ids]
        integration = s.get(Integration, integration_id)
    assert [(g.status, g.duration_ms, g.external_entity_id) for g in logs if g] == [
        ("success", 100, None),
        ("success", 200, "ext-1"),
        ("success", 600, "ext-2"),
    ]
    assert [g.response_payload for g in logs if g] == [
        {"Invoice": {"Id": "0"}, "refresh_token": REDACTED},
        {"Invoice": {"Id": "1"}, "refresh_token": REDACTED},
        None,
    ]
    assert all(g is not None and g.lease_expires_at is None and g.completed_at is not None for g in logs)
    assert integration is not None
    assert (integration.total_syncs, integration.successful_syncs, integration.failed_syncs) == (3, 3, 0)
    assert integration.avg_sync_duration_ms == 300  # the running mean, one attempt after the other
    assert integration.last_sync_at == T0 + timedelta(milliseconds=600)
