"""The webhook inbox (`webhook_events`): every verified event stored once, then processed at most once.

The receiver calls `store_events` (insert; the unique (provider, event_id) conflict means "already
received": acknowledged, not stored or processed again). Processing (a flow, or an in-process handler)
claims an event with `claim`, then ends it with `finish` (processed / ignored) or `fail` (retryable by a
later claim until `max_attempts`). `pending` lists events nobody has claimed (a dispatcher that failed, a
crashed worker) for a sweep. Raw bodies are kept as received, but for client secrets: Stripe's
`client_secret` values and ephemeral keys are never stored (`strip_client_secrets`: "[REDACTED]" in their
place, in the payload and in the raw text); error messages pass through `redact_text`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from sierra_core.db.models import WebhookEvent
from sierra_core.db.models.base import table_of
from sierra_core.db.types import utcnow
from sierra_core.redact import redact_text, strip_client_secrets, strip_client_secrets_json

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_STALE_AFTER",
    "InboxEvent",
    "NewEvent",
    "Stored",
    "claim",
    "fail",
    "finish",
    "payload_of",
    "pending",
    "store_events",
]

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_STALE_AFTER = timedelta(minutes=15)  # a `processing` row older than this lost its worker
_ERROR_MAX = 2000


@dataclass(frozen=True)
class NewEvent:
    """A verified event to store: its provider ('stripe', 'quickbooks'), the provider's unique event id,
    its type, the raw body as received and the parsed payload, and the company when known."""

    provider: str
    event_id: str
    event_type: str | None
    raw_payload: str
    payload: Any
    company_id: uuid.UUID | None = None
    integration_id: uuid.UUID | None = None


@dataclass(frozen=True)
class InboxEvent:
    """A stored event, as small as a task parameter: ids and type, no payload."""

    id: uuid.UUID
    provider: str
    event_id: str
    event_type: str | None
    company_id: uuid.UUID | None
    integration_id: uuid.UUID | None
    status: str
    attempts: int

    @classmethod
    def of(cls, row: WebhookEvent) -> InboxEvent:
        return cls(
            id=row.id,
            provider=row.provider,
            event_id=row.event_id,
            event_type=row.event_type,
            company_id=row.company_id,
            integration_id=row.integration_id,
            status=row.status,
            attempts=row.attempts,
        )


@dataclass(frozen=True)
class Stored:
    """The outcome of storing one event: the inbox row, and whether it was already there."""

    event: InboxEvent
    duplicate: bool


def store_events(
    session: Session, events: Sequence[NewEvent], *, now: datetime | None = None
) -> list[Stored]:
    """Insert each event unless (provider, event_id) is already in the inbox; in the caller's transaction.

    Uses INSERT … ON CONFLICT DO NOTHING (PostgreSQL and SQLite), so a duplicate delivery, even a
    concurrent one, neither raises nor aborts the transaction.
    """
    table = table_of(WebhookEvent)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = now or utcnow()
    results: list[Stored] = []
    for event in events:
        stmt = (
            insert(table)
            .values(
                id=uuid.uuid4(),
                provider=event.provider,
                event_id=event.event_id,
                event_type=event.event_type,
                company_id=event.company_id,
                integration_id=event.integration_id,
                raw_payload=strip_client_secrets_json(event.raw_payload),
                payload=strip_client_secrets(event.payload),
                status="received",
                attempts=0,
                received_at=now,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["provider", "event_id"])
            .returning(table.c.id)
        )
        inserted = session.execute(stmt).scalar_one_or_none()
        row = session.scalar(
            select(WebhookEvent).where(
                WebhookEvent.provider == event.provider, WebhookEvent.event_id == event.event_id
            )
        )
        assert row is not None
        results.append(Stored(InboxEvent.of(row), duplicate=inserted is None))
    return results


def claim(
    sessions: sessionmaker[Session],
    inbox_id: uuid.UUID,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
    now: datetime | None = None,
) -> InboxEvent | None:
    """Take one event for processing (status `processing`, attempts + 1), or None when it is not to be
    processed now: already processed or ignored, being processed by someone else (less than
    `stale_after` ago), or failed `max_attempts` times. One UPDATE with the condition: safe across workers."""
    now = now or utcnow()
    t = table_of(WebhookEvent)
    claimable = or_(
        t.c.status == "received",
        and_(t.c.status == "failed", t.c.attempts < max_attempts),
        and_(t.c.status == "processing", t.c.updated_at < now - stale_after),
    )
    with sessions.begin() as session:
        taken = session.execute(
            update(t)
            .where(t.c.id == inbox_id, claimable)
            .values(status="processing", attempts=t.c.attempts + 1, updated_at=now)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = session.get(WebhookEvent, inbox_id)
        assert row is not None
        return InboxEvent.of(row)


def finish(
    sessions: sessionmaker[Session],
    inbox_id: uuid.UUID,
    *,
    status: str = "processed",
    now: datetime | None = None,
) -> None:
    """End processing: `processed`, or `ignored` (an event type nobody handles)."""
    if status not in ("processed", "ignored"):
        raise ValueError("finish() sets processed or ignored; use fail() for failures")
    now = now or utcnow()
    t = table_of(WebhookEvent)
    with sessions.begin() as session:
        session.execute(
            update(t)
            .where(t.c.id == inbox_id)
            .values(status=status, processed_at=now, error_message=None, updated_at=now)
        )


def fail(
    sessions: sessionmaker[Session], inbox_id: uuid.UUID, message: str, *, now: datetime | None = None
) -> None:
    """Record a failed attempt (claimable again until `max_attempts`); the message is redacted."""
    now = now or utcnow()
    t = table_of(WebhookEvent)
    with sessions.begin() as session:
        session.execute(
            update(t)
            .where(t.c.id == inbox_id)
            .values(status="failed", error_message=redact_text(message)[:_ERROR_MAX], updated_at=now)
        )


def pending(
    sessions: sessionmaker[Session],
    provider: str | None = None,
    *,
    older_than: timedelta = timedelta(0),
    limit: int = 100,
    now: datetime | None = None,
) -> list[InboxEvent]:
    """Events still `received` (oldest first) for at least `older_than`: what a sweep re-dispatches."""
    cutoff = (now or utcnow()) - older_than
    query = select(WebhookEvent).where(WebhookEvent.status == "received", WebhookEvent.received_at <= cutoff)
    if provider:
        query = query.where(WebhookEvent.provider == provider)
    with sessions() as session:
        rows = session.scalars(query.order_by(WebhookEvent.received_at, WebhookEvent.id).limit(limit)).all()
        return [InboxEvent.of(r) for r in rows]


def payload_of(sessions: sessionmaker[Session], inbox_id: uuid.UUID) -> Any:
    """The parsed payload of one stored event (what processing reads)."""
    with sessions() as session:
        row = session.get(WebhookEvent, inbox_id)
        if row is None:
            raise LookupError(f"no webhook event {inbox_id} in the inbox")
        return row.payload
