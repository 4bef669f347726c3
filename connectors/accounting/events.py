"""Webhook events acted on, for any accounting provider: an event for a connected organisation starts a pull
of that connection.

Webhooks are hints and the pull is the truth: an event only says "something changed there". So every pending
event of a connection is answered by one pull (it reads every change since the cursors), and an event
received before the connection's last completed pull started is already covered (pull cursors never move
past a pull's start) and needs no pull of its own. That is the debounce, and it holds across processes: a
burst of twenty events costs one pull, and a second worker that claims the leftovers finds them covered.
Events for organisations no company here is connected to are ignored. A provider declares its
`WebhookPulls` (its name in the inbox, how a bookkeeper calls it and its events); the pull is given by the
caller (no prefect here).

    EVENTS = WebhookPulls("xero", "Xero", "event")
    run = EVENTS.process_events(sessions, pull=lambda company_id: run_one_pull(company_id))
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.accounting.pull import flag_changed, read_cursors
from connectors.accounting.specs import ORDER
from sierra_core import inbox
from sierra_core.db.models import Integration, WebhookEvent
from sierra_core.inbox import InboxEvent
from sierra_core.redact import redact_text

__all__ = ["EventsRun", "Pull", "WebhookPulls", "covered_before"]

log = logging.getLogger("sierra_sync.events")

Pull = Callable[[uuid.UUID], dict[str, Any]]  # company id -> the pull's summary (raises on failure)
Flags = Callable[[str | None], Sequence[str]]  # an event's type -> the entity types it says changed

_LOCKS: dict[uuid.UUID, threading.Lock] = defaultdict(threading.Lock)  # one pull per connection per process


@dataclass
class EventsRun:
    pulls: int = 0
    processed: int = 0
    covered: int = 0
    ignored: int = 0
    failed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    pulled: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "pulls": self.pulls,
            "processed": self.processed,
            "covered": self.covered,
            "ignored": self.ignored,
            "failed": self.failed,
            "failures": self.failures,
            "pulled": self.pulled,
        }


def covered_before(sessions: sessionmaker[Session], integration_id: uuid.UUID) -> datetime | None:
    """The start of the connection's last completed pull (the oldest pull cursor): an event received before
    then is covered. None when some synced type was never pulled."""
    cursors = read_cursors(sessions, integration_id, ORDER)
    if not cursors or any(at is None for at in cursors.values()):
        return None
    return min(at for at in cursors.values() if at is not None)


def _received(sessions: sessionmaker[Session], ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    with sessions() as session:
        rows = session.execute(
            select(WebhookEvent.id, WebhookEvent.received_at).where(WebhookEvent.id.in_(ids))
        )
        return {row[0]: row[1] for row in rows}


def _connected(sessions: sessionmaker[Session], integration_id: uuid.UUID) -> uuid.UUID | None:
    with sessions() as session:
        row = session.get(Integration, integration_id)
        if row is None or row.connection_status != "connected" or not row.is_active:
            return None
        return row.company_id


def _finish_all(sessions: sessionmaker[Session], events: Sequence[InboxEvent], status: str) -> None:
    for event in events:
        inbox.finish(sessions, event.id, status=status)


@dataclass(frozen=True)
class WebhookPulls:
    """One provider's webhook events answered by pulls: `provider` is its name in the inbox, `title` how a
    bookkeeper calls it, `noun` what it calls one event ("notification"); `flags`, for a provider whose
    change feed reads only what changed (`StatefulFeed`: Xero), the entity types an event names, flagged
    for the pull it starts (`flag_changed`)."""

    provider: str
    title: str
    noun: str = "event"
    flags: Flags | None = None

    def pending_ids(self, sessions: sessionmaker[Session], limit: int = 500) -> list[uuid.UUID]:
        """The provider's events still to process, oldest first: never claimed, or failed with attempts
        left (a pull that failed is tried again by the next run)."""
        waiting = or_(
            WebhookEvent.status == "received",
            and_(WebhookEvent.status == "failed", WebhookEvent.attempts < inbox.DEFAULT_MAX_ATTEMPTS),
        )
        query = (
            select(WebhookEvent.id)
            .where(WebhookEvent.provider == self.provider, waiting)
            .order_by(WebhookEvent.received_at, WebhookEvent.id)
            .limit(limit)
        )
        with sessions() as session:
            return list(session.scalars(query))

    def process_events(
        self,
        sessions: sessionmaker[Session],
        pull: Pull,
        ids: Sequence[uuid.UUID] | None = None,
        *,
        claimed: Sequence[InboxEvent] = (),
        debounce: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> EventsRun:
        """Process the provider's events (`ids`, or every pending one, plus `claimed`: events the caller
        has already claimed): per connection, skip what the last pull already covered, wait `debounce`
        seconds for the rest of a burst, and run one pull for the rest."""
        run = EventsRun()
        mine = {c.id for c in claimed}
        wanted = [i for i in (list(ids) if ids is not None else self.pending_ids(sessions)) if i not in mine]
        claimed = [*claimed, *(c for c in (inbox.claim(sessions, i) for i in wanted) if c is not None)]
        by_connection: dict[uuid.UUID | None, list[InboxEvent]] = defaultdict(list)
        for event in claimed:
            if event.provider != self.provider:
                inbox.finish(sessions, event.id, status="ignored")
                run.ignored += 1
                continue
            by_connection[event.integration_id].append(event)
        for integration_id, events in by_connection.items():
            company_id = _connected(sessions, integration_id) if integration_id is not None else None
            if company_id is None or integration_id is None:
                _finish_all(sessions, events, "ignored")  # nobody here is (still) connected to it
                run.ignored += len(events)
                continue
            with _LOCKS[integration_id]:
                self._for_connection(sessions, pull, integration_id, company_id, events, run, debounce, sleep)
        return run

    def _for_connection(
        self,
        sessions: sessionmaker[Session],
        pull: Pull,
        integration_id: uuid.UUID,
        company_id: uuid.UUID,
        events: list[InboxEvent],
        run: EventsRun,
        debounce: float,
        sleep: Callable[[float], None],
    ) -> None:
        received = _received(sessions, [e.id for e in events])
        covered_at = covered_before(sessions, integration_id)
        open_events = [e for e in events if covered_at is None or received[e.id] >= covered_at]
        covered = [e for e in events if e not in open_events]
        _finish_all(sessions, covered, "processed")
        run.covered += len(covered)
        if not open_events:
            return
        if self.flags is not None:
            self._flag(sessions, integration_id, open_events, received)
        if debounce > 0:
            sleep(debounce)  # the rest of a burst arrives meanwhile; this pull covers it too
        try:
            summary = pull(company_id)
        except Exception as exc:  # the events stay claimable (failed, attempts left): the next run retries
            message = redact_text(f"{type(exc).__name__}: {exc}")[:500]
            for event in open_events:
                inbox.fail(sessions, event.id, message)
                run.failures.append(
                    {"event_id": event.event_id, "event_type": event.event_type or "", "message": message}
                )
            run.failed += len(open_events)
            log.warning(
                "the pull for %d %s %s(s) failed: %s", len(open_events), self.title, self.noun, message
            )
            return
        run.pulls += 1
        run.pulled.append({"company_id": str(company_id), **summary})
        _finish_all(sessions, open_events, "processed")
        run.processed += len(open_events)

    def _flag(
        self,
        sessions: sessionmaker[Session],
        integration_id: uuid.UUID,
        events: Sequence[InboxEvent],
        received: dict[uuid.UUID, datetime],
    ) -> None:
        """Flag the entity types the events name (at the first event's arrival) for the coming pull."""
        assert self.flags is not None
        first: dict[str, datetime] = {}
        for event in events:
            for entity_type in self.flags(event.event_type):
                at = received[event.id]
                first[entity_type] = min(first.get(entity_type, at), at)
        for entity_type, at in first.items():
            flag_changed(sessions, integration_id, [entity_type], at)

    def inbox_handler(self, sessions: sessionmaker[Session], pull: Pull) -> Callable[[InboxEvent], str]:
        """The in-process handler for the provider (a web app without served deployments): the claimed
        event and every other pending event are answered by one pull per connection."""

        def handle(event: InboxEvent) -> str:
            run = self.process_events(sessions, pull, claimed=[event])
            if run.failed:
                raise RuntimeError(run.failures[0]["message"])
            return "ignored" if run.ignored and not (run.processed or run.covered) else "processed"

        return handle
