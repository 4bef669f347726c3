"""Run stored Stripe events through processing: claim each (one worker per event), process, then finish
or fail it in the inbox. What flows and the in-process webhook handler share."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.stripe_events.process import EventContext, process_inbox_event
from sierra_core import inbox
from sierra_core.db.models import WebhookEvent
from sierra_core.inbox import InboxEvent
from sierra_core.redact import redact_text

__all__ = ["EventRun", "claimable_events", "handle_claimed", "run_events"]

log = logging.getLogger("sierra_sync.stripe_events")


def claimable_events(
    sessions: sessionmaker[Session], *, limit: int = 100, max_attempts: int = inbox.DEFAULT_MAX_ATTEMPTS
) -> list[uuid.UUID]:
    """Stripe events waiting for processing, oldest first: never claimed (`received`), or failed with
    attempts left (an unknown invoice restored since, QuickBooks back up)."""
    waiting = or_(
        WebhookEvent.status == "received",
        and_(WebhookEvent.status == "failed", WebhookEvent.attempts < max_attempts),
    )
    with sessions() as session:
        rows = session.scalars(
            select(WebhookEvent.id)
            .where(WebhookEvent.provider == "stripe", waiting)
            .order_by(WebhookEvent.received_at, WebhookEvent.id)
            .limit(limit)
        )
        return list(rows)


def handle_claimed(ctx: EventContext, event: InboxEvent) -> str:
    """Process one claimed event; returns the inbox status (processed or ignored). The in-process webhook
    dispatcher calls this (it claims, finishes and fails itself)."""
    return process_inbox_event(ctx, event).status


@dataclass
class EventRun:
    """The result of running a list of inbox events (JSON-ready through `as_dict`)."""

    processed: int = 0
    ignored: int = 0
    failed: int = 0
    skipped: int = 0  # not claimable: done already, taken by another worker, or out of attempts
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "processed": self.processed,
            "ignored": self.ignored,
            "failed": self.failed,
            "skipped": self.skipped,
            "outcomes": self.outcomes,
            "failures": self.failures,
        }


def run_events(
    ctx: EventContext,
    inbox_ids: Sequence[uuid.UUID],
    *,
    max_attempts: int = inbox.DEFAULT_MAX_ATTEMPTS,
) -> EventRun:
    """Claim, process and finish (or fail) each event; one event's failure never stops the others."""
    run = EventRun()
    for inbox_id in inbox_ids:
        claimed = inbox.claim(ctx.sessions, inbox_id, max_attempts=max_attempts)
        if claimed is None:
            run.skipped += 1
            continue
        try:
            outcome = process_inbox_event(ctx, claimed)
        except Exception as exc:  # recorded on the inbox row; the next claim retries it
            message = redact_text(getattr(exc, "message", None) or str(exc) or type(exc).__name__)
            inbox.fail(ctx.sessions, claimed.id, f"{type(exc).__name__}: {message}")
            run.failed += 1
            run.failures.append(
                {
                    "event_id": claimed.event_id,
                    "event_type": claimed.event_type,
                    "error": type(exc).__name__,
                    "message": message[:500],
                    "retryable": bool(getattr(exc, "retryable", False)),
                }
            )
            log.warning("Stripe event %s (%s) failed: %s", claimed.event_id, claimed.event_type, message)
            continue
        inbox.finish(ctx.sessions, claimed.id, status=outcome.status)
        if outcome.status == "ignored":
            run.ignored += 1
        else:
            run.processed += 1
        run.outcomes.append(outcome.as_dict())
    return run
