"""Recording push outcomes: sync-log rows (one per attempt), entity links, counts and decisions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from connectors.accounting.adapter import AccountingAdapter
from connectors.accounting.heartbeat import AttemptLeases
from connectors.accounting.links import link_row, save_links
from connectors.accounting.outcome import Decision, Failure, PushResult
from connectors.accounting.push_types import Op, PushOptions, Target
from connectors.accounting.specs import Spec
from connectors.outgoing_webhooks import emit_event, subscribed_events
from sierra_core import synclog
from sierra_core.db.models import EntityLink, IntegrationSyncLog
from sierra_core.db.types import utcnow
from sierra_core.errors import SierraError


@dataclass
class PushRecorder:
    sessions: sessionmaker[Session]
    target: Target
    options: PushOptions
    result: PushResult
    adapter: AccountingAdapter
    _subscribed: set[str] | None = None  # event types the company's webhook subscribers want (read once)
    leases: AttemptLeases | None = None  # the attempts this push holds, kept alive while it runs
    # When the attempts this push opened started: closing one then needs no read of its row.
    _started: dict[uuid.UUID, datetime] = field(default_factory=dict)
    _batching: Session | None = None  # the session whose successes are being collected (`batched`)
    _links: list[dict[str, Any]] = field(default_factory=list)
    _successes: synclog.Successes = field(default_factory=synclog.Successes)

    @contextmanager
    def batched(self, session: Session) -> Iterator[None]:
        """Within: the successes recorded in `session` are written together (links in one executemany,
        sync-log rows in another, the integration's counters in a third) when the block ends, or before
        any other outcome is recorded, so the rows are written in the order recorded."""
        self._batching = session
        try:
            yield
            self.write_batch(session)
        finally:
            self._batching = None
            self._links.clear()
            self._successes = synclog.Successes()

    def write_batch(self, session: Session) -> None:
        if session is not self._batching or not self._successes:
            return
        save_links(session, self._links)
        self._successes.write(session)
        self._links.clear()

    def open_attempts(self, session: Session, spec: Spec, ops: list[Op]) -> list[uuid.UUID]:
        """One attempt per operation (a claimed one, or a new row: all new rows in one INSERT)."""
        log_ids = [self.open_attempt(session, spec, op, flush=False) for op in ops]
        session.flush()
        return log_ids

    def open_attempt(self, session: Session, spec: Spec, op: Op, *, flush: bool = True) -> uuid.UUID:
        claimed = self.options.claimed.pop((spec.entity_type, op.row.id), None)
        if claimed is not None:
            return claimed
        now = utcnow()
        log_id = synclog.start_attempt(
            session,
            integration_id=self.target.integration_id,
            company_id=self.target.company_id,
            sync_type=spec.entity_type,
            direction="push",
            trigger=self.options.trigger,
            entity_type=spec.entity_type,
            entity_id=op.row.id,
            external_entity_id=op.external_id,
            request_payload={"operation": op.action, self.adapter.entity_name(spec.entity_type): op.body}
            if op.action != "link"
            else None,
            max_retries=self.options.max_retries,
            flow_run_id=self.options.flow_run_id,
            request_id=op.request_id or None,
            lease_s=self.options.lease_s,
            now=now,
            flush=flush,
        )
        self._started[log_id] = now
        if self.leases is not None:
            self.leases.add([log_id])
        return log_id

    def _released(self, log_id: uuid.UUID) -> None:
        self._started.pop(log_id, None)
        if self.leases is not None:
            self.leases.discard([log_id])

    def succeed(
        self, session: Session, spec: Spec, op: Op, log_id: uuid.UUID, obj: dict[str, Any], outcome: str
    ) -> None:
        meta = self.adapter.meta(spec.entity_type, obj) if obj else None
        external_id = (meta.external_id if meta else None) or str(op.external_id)
        token = (meta.version_token if meta else None) or op.sync_token
        link = link_row(
            integration_id=self.target.integration_id,
            company_id=self.target.company_id,
            entity_type=spec.entity_type,
            app_id=op.row.id,
            external_id=external_id,
            sync_token=str(token) if token else None,
            version=op.row.version,
            external_updated_at=meta.last_updated if meta else None,
        )
        started_at = self._started.pop(log_id, None)
        if session is self._batching and started_at is not None:
            self._links.append(link)
            self._successes.add(
                log_id,
                started_at=started_at,
                integration_id=self.target.integration_id,
                external_entity_id=external_id,
                response_payload=obj or None,
            )
        else:
            self.write_batch(session)  # what came before is written first, in order
            save_links(session, [link])
            synclog.finish_success(
                session,
                log_id,
                external_entity_id=external_id,
                response_payload=obj or None,
                started_at=started_at,
                integration_id=self.target.integration_id,
            )
        self._released(log_id)
        counts = self.result.count(spec.entity_type)
        setattr(counts, outcome, getattr(counts, outcome) + 1)
        self.decide(spec, op.row, op.action, outcome, external_id)
        if spec.entity_type == "invoice":
            self.emit(
                session,
                "invoice.synced",
                log_id,
                {
                    "invoice_id": str(op.row.id),
                    "invoice_number": op.row.invoice_number,
                    self.adapter.event_id_field: external_id,
                    "outcome": outcome,
                    "total": str(op.row.total),
                },
            )

    def failed(self, session: Session, spec: Spec, row: Any, log_id: uuid.UUID, error: Exception) -> None:
        self.write_batch(session)
        label = spec.label(row)
        code = getattr(error, "code", None) or synclog.UNCLASSIFIED
        retryable = bool(getattr(error, "retryable", False))
        text = str(getattr(error, "message", error))
        prefix = f"{self.adapter.title} sync failed"
        message = text if text.startswith(prefix) else f"{prefix}: {label}: {text}"
        status = synclog.finish_failure(
            session,
            log_id,
            error_code=code,
            error_message=message,
            retryable=retryable,
            error_details={"entity": label, "error": type(error).__name__},
        )
        self._released(log_id)
        counts = self.result.count(spec.entity_type)
        if status == "retrying":
            counts.retrying += 1
        else:
            counts.failed += 1
        self.result.failures.append(Failure(spec.entity_type, row.id, label, status, code, message))
        self.decide(spec, row, "fail", message)
        if spec.entity_type == "invoice" and status == "failed":
            self.emit(
                session,
                "invoice.sync_failed",
                log_id,
                {
                    "invoice_id": str(row.id),
                    "invoice_number": row.invoice_number,
                    "error_code": code,
                    "message": message,
                },
            )

    def defer(
        self, session: Session, spec: Spec, row: Any, log_id: uuid.UUID, resume_at: datetime, why: str
    ) -> None:
        """The connection's call allowance is spent: the record was not sent and did not fail. Its attempt
        waits for the sweep from `resume_at` (a retry that costs none of its retries)."""
        self.write_batch(session)
        log = session.get(IntegrationSyncLog, log_id)
        if log is not None:
            log.status = "retrying"
            log.next_retry_at = resume_at
            log.completed_at = utcnow()
            log.lease_expires_at = None
            log.error_code = "budget_exhausted"
            log.error_message = f"{self.adapter.title} sync deferred: {spec.label(row)}: {why}"
            log.error_details = {"entity": spec.label(row), "resume_at": resume_at.isoformat()}
            session.flush()
        self._released(log_id)
        self.result.count(spec.entity_type).deferred += 1
        if self.result.resume_at is None or resume_at > self.result.resume_at:
            self.result.resume_at = resume_at
        self.decide(spec, row, "defer", f"{why} (waits until {resume_at:%Y-%m-%d %H:%M} UTC)")

    def emit(self, session: Session, event_type: str, log_id: uuid.UUID, data: dict[str, Any]) -> None:
        """An outgoing webhook event for the company's subscribers, committed with the outcome it reports;
        the event id comes from the sync-log row, so a replayed outcome never sends it twice."""
        if self._subscribed is None:
            self._subscribed = subscribed_events(session, self.target.company_id)
        if event_type in self._subscribed:
            emit_event(session, self.target.company_id, event_type, data, event_id=f"evt_{log_id.hex}")

    def fail_unsent(
        self, spec: Spec, row: Any, label: str, error: SierraError, resume_at: datetime | None = None
    ) -> None:
        """A record that failed before anything was sent: still an attempt, so still a sync-log row. With
        `resume_at` (the call allowance is spent) it is deferred, not failed."""
        if self.options.dry_run:
            self.decide(spec, row, "fail", error.message)
            self.result.count(spec.entity_type).failed += 1
            return
        with self.sessions.begin() as session:
            log_id = self.open_attempt(session, spec, Op(row, "create", {}, ""))
            if resume_at is not None:
                self.defer(session, spec, row, log_id, resume_at, error.message)
            else:
                self.failed(session, spec, row, log_id, error)

    def skip(
        self, spec: Spec, row: Any, reason: str, link: EntityLink | None, acknowledge: bool = False
    ) -> None:
        self.result.count(spec.entity_type).skipped += 1
        self.decide(spec, row, "skip", reason, link.external_id if link else None)
        claimed = self.options.claimed.pop((spec.entity_type, row.id), None)
        if self.options.dry_run:
            return
        if (acknowledge and link is not None) or claimed is not None:
            with self.sessions.begin() as session:
                if acknowledge and link is not None:
                    stored = session.get(EntityLink, link.id)
                    if stored is not None:
                        stored.last_synced_version = row.version
                if claimed is not None:
                    synclog.finish_success(session, claimed, response_payload={"skipped": reason})
                    self._released(claimed)

    def close_unused_claims(self) -> None:
        if not self.options.claimed or self.options.dry_run:
            return
        with self.sessions.begin() as session:
            for (entity_type, app_id), log_id in self.options.claimed.items():
                synclog.finish_success(
                    session,
                    log_id,
                    response_payload={"skipped": f"{entity_type} {app_id} needs no push any more"},
                )
                self._released(log_id)
        self.options.claimed.clear()

    def decide(self, spec: Spec, row: Any, action: str, reason: str, external_id: str | None = None) -> None:
        self.result.decisions.append(
            Decision(spec.entity_type, row.id, spec.label(row), action, reason, external_id)
        )
