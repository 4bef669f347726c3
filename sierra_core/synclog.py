"""The sync-log store: one `integration_sync_logs` row per attempt, the durable retry queue, and the
integration's counters, all in SQL.

Functions take a Session and never commit: the caller owns the transaction. Commit the row made by
`start_attempt` before calling the external API, so a worker that dies mid-call leaves an `in_progress` row
that `claim_due_retries` recovers. An attempt started with a lease (`lease_s`) carries `lease_expires_at`,
which the worker renews (`renew_leases`, from `connectors.accounting.heartbeat`) while it runs:
once the lease has passed, the worker is taken for dead and the next sweep recovers the attempt. Attempts
without a lease (rows older than the column) are recovered `stale_after` their start.

Every payload and message passes through `sierra_core.redact.redact` before it is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Integer, bindparam, case, cast, select, update
from sqlalchemy.orm import Session

from sierra_core.db.models import Integration, IntegrationSyncLog
from sierra_core.db.models.base import table_of
from sierra_core.db.types import utcnow
from sierra_core.redact import redact, redact_text

WORKER_LOST = "worker_lost"
UNCLASSIFIED = "unclassified"  # a failure whose error carried no code: a bug to report (docs/operations.md)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff of the durable retries: base, base*factor, base*factor^2 … capped."""

    base_seconds: float = 1.0
    factor: float = 2.0
    cap_seconds: float = 300.0

    def delay(self, retry_count: int) -> timedelta:
        seconds = self.base_seconds * self.factor ** max(retry_count, 0)
        return timedelta(seconds=min(seconds, self.cap_seconds))


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True)
class ClaimedRetry:
    """A due retry taken from the queue: the new attempt row and what it is about."""

    new_log_id: uuid.UUID
    previous_log_id: uuid.UUID
    integration_id: uuid.UUID
    company_id: uuid.UUID
    sync_type: str
    direction: str
    entity_type: str | None
    entity_id: uuid.UUID | None
    attempt_number: int
    retry_count: int
    max_retries: int
    recovered_from_lost_worker: bool


def start_attempt(
    session: Session,
    *,
    integration_id: uuid.UUID,
    company_id: uuid.UUID,
    sync_type: str,
    direction: str,
    trigger: str | None = None,
    entity_type: str | None = None,
    entity_id: uuid.UUID | None = None,
    external_entity_id: str | None = None,
    request_payload: Any = None,
    max_retries: int = 3,
    attempt_number: int = 1,
    retry_count: int = 0,
    flow_run_id: str | None = None,
    request_id: str | None = None,
    status: str = "in_progress",
    now: datetime | None = None,
    lease_s: float | None = None,
    flush: bool = True,
) -> uuid.UUID:
    """Record the start of an attempt and return its log id. With `lease_s`, the attempt is leased for
    that long: renew it while the work runs, or the sweep recovers it as left by a dead worker. With
    `flush=False` the row is only added to the session: flush once after starting several attempts, and
    they go out in one INSERT."""
    now = now or utcnow()
    log = IntegrationSyncLog(
        id=uuid.uuid4(),
        integration_id=integration_id,
        company_id=company_id,
        sync_type=sync_type,
        direction=direction,
        trigger=trigger,
        entity_type=entity_type,
        entity_id=entity_id,
        external_entity_id=external_entity_id,
        status=status,
        attempt_number=attempt_number,
        retry_count=retry_count,
        max_retries=max_retries,
        started_at=now,
        request_payload=redact(request_payload),
        flow_run_id=flow_run_id,
        request_id=request_id,
        lease_expires_at=now + timedelta(seconds=lease_s)
        if lease_s is not None and status == "in_progress"
        else None,
    )
    session.add(log)
    if flush:
        session.flush()
    return log.id


def _load(session: Session, log_id: uuid.UUID) -> IntegrationSyncLog:
    log = session.get(IntegrationSyncLog, log_id, with_for_update=True)
    if log is None:
        raise LookupError(f"sync log {log_id} does not exist")
    return log


def _duration_ms(log: IntegrationSyncLog, now: datetime) -> int:
    return max(0, int((now - log.started_at).total_seconds() * 1000))


def finish_success(
    session: Session,
    log_id: uuid.UUID,
    *,
    external_entity_id: str | None = None,
    response_payload: Any = None,
    now: datetime | None = None,
    started_at: datetime | None = None,
    integration_id: uuid.UUID | None = None,
) -> None:
    """Close an attempt as `success` and count it on the integration. A caller that knows the attempt's
    `started_at` and `integration_id` (it opened the attempt) saves reading the row back first."""
    now = now or utcnow()
    if started_at is not None and integration_id is not None:
        batch = Successes()
        batch.add(
            log_id,
            started_at=started_at,
            integration_id=integration_id,
            external_entity_id=external_entity_id,
            response_payload=response_payload,
            now=now,
        )
        batch.write(session)
        return
    log = _load(session, log_id)
    log.status = "success"
    log.completed_at = now
    log.lease_expires_at = None
    log.duration_ms = _duration_ms(log, now)
    log.next_retry_at = None
    if external_entity_id is not None:
        log.external_entity_id = external_entity_id
    if response_payload is not None:
        log.response_payload = redact(response_payload)
    session.flush()
    record_outcome(session, log.integration_id, "success", log.duration_ms, None, now=now)


def _success_update(with_external_id: bool, with_payload: bool) -> Any:
    """The UPDATE closing an attempt as `success` by id (what `finish_success` writes), built once."""
    t = table_of(IntegrationSyncLog)
    values: dict[str, Any] = {
        "status": "success",
        "completed_at": bindparam("now_at", type_=t.c.completed_at.type),
        "lease_expires_at": None,
        "duration_ms": bindparam("duration_n", type_=t.c.duration_ms.type),
        "next_retry_at": None,
    }
    if with_external_id:
        values["external_entity_id"] = bindparam("external_entity_id", type_=t.c.external_entity_id.type)
    if with_payload:
        values["response_payload"] = bindparam("response_payload", type_=t.c.response_payload.type)
    return update(t).where(t.c.id == bindparam("log_id", type_=t.c.id.type)).values(**values)


_SUCCESS_UPDATES: dict[tuple[bool, bool], Any] = {}


@dataclass
class Successes:
    """Attempts to close as `success` (as `finish_success` does), written together by `write`: one
    executemany per statement instead of a read and two writes per attempt. For attempts whose caller
    knows `started_at` and `integration_id` (it opened them). The integration's counters are updated
    once per attempt, in the order added."""

    _closing: dict[tuple[bool, bool], list[dict[str, Any]]] = field(default_factory=dict)
    _outcomes: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self._outcomes)

    def add(
        self,
        log_id: uuid.UUID,
        *,
        started_at: datetime,
        integration_id: uuid.UUID,
        external_entity_id: str | None = None,
        response_payload: Any = None,
        now: datetime | None = None,
    ) -> None:
        now = now or utcnow()
        duration_ms = max(0, int((now - started_at).total_seconds() * 1000))
        params: dict[str, Any] = {"log_id": log_id, "now_at": now, "duration_n": duration_ms}
        if external_entity_id is not None:
            params["external_entity_id"] = external_entity_id
        if response_payload is not None:
            params["response_payload"] = redact(response_payload)
        key = (external_entity_id is not None, response_payload is not None)
        self._closing.setdefault(key, []).append(params)
        self._outcomes.append(_outcome_params(integration_id, "success", duration_ms, None, now))

    def write(self, session: Session) -> None:
        for key, rows in self._closing.items():
            stmt = _SUCCESS_UPDATES.get(key)
            if stmt is None:
                stmt = _SUCCESS_UPDATES[key] = _success_update(*key)
            session.execute(stmt, rows)
        if self._outcomes:
            session.execute(_outcome_statement(True), self._outcomes)
        self._closing.clear()
        self._outcomes.clear()


def finish_failure(
    session: Session,
    log_id: uuid.UUID,
    *,
    error_code: str | None,
    error_message: str,
    retryable: bool,
    error_details: dict[str, Any] | None = None,
    response_payload: Any = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    now: datetime | None = None,
) -> str:
    """Close a failed attempt: `retrying` with next_retry_at while retries remain for a retryable error,
    else `failed`. Returns the status written."""
    now = now or utcnow()
    log = _load(session, log_id)
    will_retry = retryable and log.retry_count < log.max_retries
    log.status = "retrying" if will_retry else "failed"
    log.next_retry_at = now + policy.delay(log.retry_count) if will_retry else None
    log.completed_at = now
    log.lease_expires_at = None
    log.duration_ms = _duration_ms(log, now)
    log.error_code = error_code or UNCLASSIFIED  # every failed attempt carries a code
    log.error_message = redact_text(error_message)
    log.error_details = redact({**(error_details or {}), "retryable": retryable})
    if response_payload is not None:
        log.response_payload = redact(response_payload)
    session.flush()
    record_outcome(session, log.integration_id, log.status, log.duration_ms, log.error_message, now=now)
    return log.status


def _outcome_update(with_duration: bool) -> Any:
    """The UPDATE `record_outcome` runs, built once (bound parameters only), so recording thousands of
    outcomes does not rebuild and re-key the same statement for each."""
    t = table_of(Integration)
    values: dict[str, Any] = {
        "total_syncs": t.c.total_syncs + 1,
        "successful_syncs": t.c.successful_syncs + bindparam("ok_n", type_=Integer),
        "failed_syncs": t.c.failed_syncs + bindparam("failed_n", type_=Integer),
        "last_sync_at": bindparam("now_at", type_=t.c.last_sync_at.type),
        "last_sync_status": bindparam("status_text", type_=t.c.last_sync_status.type),
        "last_sync_error": bindparam("error_text", type_=t.c.last_sync_error.type),
        "updated_at": bindparam("now_at", type_=t.c.updated_at.type),
    }
    if with_duration:
        # Every right-hand side sees the row as it was before this UPDATE, on both dialects.
        duration = bindparam("duration_n", type_=BigInteger)
        values["avg_sync_duration_ms"] = case(
            (t.c.avg_sync_duration_ms.is_(None), duration),
            else_=(cast(t.c.avg_sync_duration_ms, BigInteger) * t.c.total_syncs + duration)
            / (t.c.total_syncs + 1),
        )
    return update(t).where(t.c.id == bindparam("integration", type_=t.c.id.type)).values(**values)


_OUTCOME_UPDATES: dict[bool, Any] = {}


def record_outcome(
    session: Session,
    integration_id: uuid.UUID,
    status: str,
    duration_ms: int | None,
    error: str | None,
    *,
    now: datetime | None = None,
) -> None:
    """Count one finished attempt on the integration in a single UPDATE (no read-modify-write):
    total/successful/failed syncs, last_sync_*, and the running mean of durations."""
    params = _outcome_params(integration_id, status, duration_ms, error, now or utcnow())
    session.execute(_outcome_statement(duration_ms is not None), params)


def _outcome_statement(with_duration: bool) -> Any:
    stmt = _OUTCOME_UPDATES.get(with_duration)
    if stmt is None:
        stmt = _OUTCOME_UPDATES[with_duration] = _outcome_update(with_duration)
    return stmt


def _outcome_params(
    integration_id: uuid.UUID, status: str, duration_ms: int | None, error: str | None, now: datetime
) -> dict[str, Any]:
    succeeded = status == "success"
    params: dict[str, Any] = {
        "integration": integration_id,
        "ok_n": 1 if succeeded else 0,
        "failed_n": 0 if succeeded else 1,
        "now_at": now,
        "status_text": status,
        "error_text": None if succeeded else error,
    }
    if duration_ms is not None:
        params["duration_n"] = duration_ms
    return params


def renew_leases(
    session: Session, log_ids: Iterable[uuid.UUID], lease_s: float, *, now: datetime | None = None
) -> int:
    """Extend the lease of the attempts among `log_ids` still in progress to `now + lease_s` (one UPDATE
    per 500 ids); returns how many were renewed. Finished attempts are left alone, and so are rows another
    transaction holds locked (SKIP LOCKED on PostgreSQL: the worker finishing them, or a second renewal):
    a renewal never waits for a row lock, so it can never deadlock with the push it keeps alive."""
    until = (now or utcnow()) + timedelta(seconds=lease_s)
    ids = list(log_ids)
    renewed = 0
    L = IntegrationSyncLog
    for start in range(0, len(ids), 500):
        free = (
            select(L.id)
            .where(L.id.in_(ids[start : start + 500]), L.status == "in_progress")
            .with_for_update(skip_locked=True)
        )
        done = session.execute(
            update(L)
            .where(L.id.in_(free.scalar_subquery()))
            .values(lease_expires_at=until)
            .execution_options(synchronize_session=False)
        )
        renewed += int(done.rowcount)  # type: ignore[attr-defined]
    return renewed


def list_due_retries(
    session: Session,
    *,
    now: datetime | None = None,
    integration_id: uuid.UUID | None = None,
    limit: int = 100,
) -> list[IntegrationSyncLog]:
    """Rows waiting for a retry whose time has come (read-only; use `claim_due_retries` to take them)."""
    now = now or utcnow()
    stmt = (
        select(IntegrationSyncLog)
        .where(
            IntegrationSyncLog.status == "retrying",
            IntegrationSyncLog.next_retry_at <= now,
            IntegrationSyncLog.retried_by_id.is_(None),
        )
        .order_by(IntegrationSyncLog.next_retry_at)
        .limit(limit)
    )
    if integration_id is not None:
        stmt = stmt.where(IntegrationSyncLog.integration_id == integration_id)
    return list(session.scalars(stmt))


def claim_due_retries(
    session: Session,
    *,
    now: datetime | None = None,
    stale_after: timedelta = timedelta(minutes=15),
    integration_id: uuid.UUID | None = None,
    limit: int = 100,
    flow_run_id: str | None = None,
    lease_s: float | None = None,
    dead_flow_runs: set[str] | None = None,
) -> list[ClaimedRetry]:
    """Take due retries, and attempts left `in_progress` by a worker that died (lease expired; without a
    lease: started over `stale_after` ago), off the queue: each gets a new `in_progress` attempt row
    (leased for `lease_s`), and the old row is closed as `failed` with `retried_by_id` pointing at its
    successor. On PostgreSQL rows are locked with SKIP LOCKED, so concurrent sweeps never take the same row
    twice. The flow runs of the dead workers' attempts are added to `dead_flow_runs` when given."""
    now = now or utcnow()
    L = IntegrationSyncLog
    due = (L.status == "retrying") & (L.next_retry_at <= now)
    expired = L.lease_expires_at.is_not(None) & (L.lease_expires_at <= now)
    unleased_and_old = L.lease_expires_at.is_(None) & (L.started_at <= now - stale_after)
    lost = (L.status == "in_progress") & (expired | unleased_and_old)
    stmt = (
        select(L)
        .where(due | lost, L.retried_by_id.is_(None))
        .order_by(L.started_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if integration_id is not None:
        stmt = stmt.where(L.integration_id == integration_id)
    claimed: list[ClaimedRetry] = []
    for old in session.scalars(stmt).all():
        was_lost = old.status == "in_progress"
        if was_lost:
            if dead_flow_runs is not None and old.flow_run_id:
                dead_flow_runs.add(old.flow_run_id)
            old.error_code = WORKER_LOST
            old.completed_at = now
            old.lease_expires_at = None
            old.error_message = "the worker running this attempt stopped before it finished; retrying it"
            if old.retry_count >= old.max_retries:
                old.status = "failed"
                old.error_message = (
                    "the worker running this attempt stopped before it finished and no retries are left; "
                    "check the record in QuickBooks, then re-run it with replay-failed"
                )
            record_outcome(session, old.integration_id, "failed", None, old.error_message, now=now)
            if old.status == "failed":
                continue
        claimed.append(
            _successor(session, old, now=now, flow_run_id=flow_run_id, lost=was_lost, lease_s=lease_s)
        )
    session.flush()
    return claimed


def leases_alive(session: Session, flow_run_ids: Iterable[str], *, now: datetime | None = None) -> set[str]:
    """Those of `flow_run_ids` that still hold an unexpired attempt lease (a worker renews it: alive)."""
    ids = list(flow_run_ids)
    if not ids:
        return set()
    L = IntegrationSyncLog
    rows = session.scalars(
        select(L.flow_run_id).where(
            L.flow_run_id.in_(ids), L.status == "in_progress", L.lease_expires_at > (now or utcnow())
        )
    )
    return {r for r in rows if r}


def _successor(
    session: Session,
    old: IntegrationSyncLog,
    *,
    now: datetime,
    flow_run_id: str | None,
    lost: bool,
    lease_s: float | None = None,
) -> ClaimedRetry:
    """Open the next attempt of `old` and close `old` as failed, pointing at its successor."""
    new_id = start_attempt(
        session,
        integration_id=old.integration_id,
        company_id=old.company_id,
        sync_type=old.sync_type,
        direction=old.direction,
        trigger="retry",
        entity_type=old.entity_type,
        entity_id=old.entity_id,
        external_entity_id=old.external_entity_id,
        max_retries=old.max_retries,
        attempt_number=old.attempt_number + 1,
        retry_count=old.retry_count + 1,
        flow_run_id=flow_run_id,
        request_id=old.request_id,
        now=now,
        lease_s=lease_s,
    )
    old.status = "failed"
    old.next_retry_at = None
    old.retried_by_id = new_id
    return ClaimedRetry(
        new_log_id=new_id,
        previous_log_id=old.id,
        integration_id=old.integration_id,
        company_id=old.company_id,
        sync_type=old.sync_type,
        direction=old.direction,
        entity_type=old.entity_type,
        entity_id=old.entity_id,
        attempt_number=old.attempt_number + 1,
        retry_count=old.retry_count + 1,
        max_retries=old.max_retries,
        recovered_from_lost_worker=lost,
    )


def reopen_failures(
    session: Session,
    *,
    integration_id: uuid.UUID,
    entity_types: list[str] | None = None,
    entity_ids: list[uuid.UUID] | None = None,
    now: datetime | None = None,
    flow_run_id: str | None = None,
    limit: int = 5000,
    lease_s: float | None = None,
) -> list[ClaimedRetry]:
    """`replay-failed`: give every open failure (failed, never retried) of the integration a new attempt
    row, after a person fixed the cause. Locked like `claim_due_retries`, so two replays never double up."""
    now = now or utcnow()
    L = IntegrationSyncLog
    stmt = (
        select(L)
        .where(
            L.integration_id == integration_id,
            L.status == "failed",
            L.retried_by_id.is_(None),
            L.entity_id.is_not(None),
            L.direction == "push",  # a failed pull is retried by its held cursor, not replayed
        )
        .order_by(L.started_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if entity_types:
        stmt = stmt.where(L.entity_type.in_(entity_types))
    if entity_ids:
        stmt = stmt.where(L.entity_id.in_(entity_ids))
    reopened = [
        _successor(session, old, now=now, flow_run_id=flow_run_id, lost=False, lease_s=lease_s)
        for old in session.scalars(stmt)
    ]
    session.flush()
    return reopened


def open_failures(
    session: Session, *, integration_id: uuid.UUID | None = None, limit: int = 1000
) -> list[IntegrationSyncLog]:
    """Permanent failures nobody has retried yet: what `replay-failed` re-runs after a fix."""
    stmt = (
        select(IntegrationSyncLog)
        .where(IntegrationSyncLog.status == "failed", IntegrationSyncLog.retried_by_id.is_(None))
        .order_by(IntegrationSyncLog.started_at)
        .limit(limit)
    )
    if integration_id is not None:
        stmt = stmt.where(IntegrationSyncLog.integration_id == integration_id)
    return list(session.scalars(stmt))
