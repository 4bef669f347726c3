"""Pull the accounting system's changes into the app through the connection's adapter: customers,
invoices, payments and expenses, in that order.

One read of the change feed covers every entity type, from the oldest cursor minus a small lag window (a
full sync reads from far in the past). Documents seen before are skipped by the version token their link
holds, so the lag window costs nothing.

Each entity type is applied in one transaction together with its new cursor (dlt's habit: state commits
with the data). The new cursor is the feed's high-water mark, never later than the sync's start (Singer's
signpost), so a change committed while we read is picked up by the next run. When a document fails, the
cursor stays at its last-updated time so the next run tries it again.

    result = Puller(sessions, adapter, Target(...), PullOptions(trigger="scheduled")).run(full=False)

An adapter with a stateful feed (`StatefulFeed`, Xero) reads its own mark first (Xero: the journals since
the last one seen) and only the entity types that changed; a type it did not read keeps its cursor, so a
later read of it starts where the last one did. Its state lives in the pull cursor row `FEED`, together with
the types provider notifications flagged (`flag_changed`) until a pull that started after them reads them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.accounting.adapter import AccountingAdapter, StatefulFeed
from connectors.accounting.pull_apply import Applier
from connectors.accounting.pull_types import PullOptions, PullResult
from connectors.accounting.push_types import Target
from connectors.accounting.specs import ORDER, SPECS
from sierra_core.db.models import SyncCursor

__all__ = ["FAR_PAST", "FEED", "Puller", "flag_changed", "read_cursors", "read_feed_state"]

log = logging.getLogger("sierra_sync.pull")

FAR_PAST = datetime(2000, 1, 1, tzinfo=UTC)  # "everything": the adapter lists it all
FEED = "_feed"  # the pull cursor row holding a stateful change feed's state (not an entity type)


def _feed_row(session: Session, integration_id: Any, *, lock: bool = False) -> SyncCursor | None:
    query = select(SyncCursor).where(
        SyncCursor.integration_id == integration_id,
        SyncCursor.entity_type == FEED,
        SyncCursor.direction == "pull",
    )
    return session.scalar(query.with_for_update() if lock else query)


def read_feed_state(sessions: sessionmaker[Session], integration_id: Any) -> dict[str, Any]:
    """The stateful feed's stored state ({} before its first read)."""
    with sessions() as session:
        row = _feed_row(session, integration_id)
        return dict(row.cursor_state or {}) if row is not None else {}


def flag_changed(
    sessions: sessionmaker[Session], integration_id: Any, entity_types: Iterable[str], at: datetime
) -> None:
    """A provider notification (received `at`) says these entity types changed: the next pull that starts
    after `at` reads them even when the feed's own mark does not point at them."""
    with sessions.begin() as session:
        row = _feed_row(session, integration_id, lock=True)
        if row is None:
            row = SyncCursor(integration_id=integration_id, entity_type=FEED, direction="pull")
            row.cursor_state = {}
            session.add(row)
        state = dict(row.cursor_state or {})
        flagged = dict(state.get("flagged") or {})
        for entity_type in entity_types:
            old = flagged.get(entity_type)
            mark = _aware(at).astimezone(UTC).isoformat()
            flagged[entity_type] = min(old, mark) if old else mark
        state["flagged"] = flagged
        row.cursor_state = state


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _write_feed_state(
    sessions: sessionmaker[Session], integration_id: Any, state: dict[str, Any], started: datetime
) -> None:
    """Store the feed's new state; flags received since the pull started stay for the next one."""
    with sessions.begin() as session:
        row = _feed_row(session, integration_id, lock=True)
        if row is None:
            row = SyncCursor(integration_id=integration_id, entity_type=FEED, direction="pull")
            session.add(row)
        stored = dict((row.cursor_state or {}).get("flagged") or {})
        later = {t: at for t, at in stored.items() if _aware(datetime.fromisoformat(at)) >= started}
        row.cursor_at = started
        row.cursor_state = {**state, "flagged": later}


def read_cursors(
    sessions: sessionmaker[Session], integration_id: Any, entity_types: Sequence[str]
) -> dict[str, datetime | None]:
    """The stored pull cursor of each entity type (None: never pulled)."""
    with sessions() as session:
        rows = session.scalars(
            select(SyncCursor).where(
                SyncCursor.integration_id == integration_id,
                SyncCursor.direction == "pull",
                SyncCursor.entity_type.in_(list(entity_types)),
            )
        )
        found = {row.entity_type: row.cursor_at for row in rows}
    return {t: found.get(t) for t in entity_types}


def _write_cursor(
    session: Session, integration_id: Any, entity_type: str, at: datetime, state: dict[str, Any]
) -> None:
    row = session.scalar(
        select(SyncCursor).where(
            SyncCursor.integration_id == integration_id,
            SyncCursor.entity_type == entity_type,
            SyncCursor.direction == "pull",
        )
    )
    if row is None:
        row = SyncCursor(integration_id=integration_id, entity_type=entity_type, direction="pull")
        session.add(row)
    row.cursor_at = at
    row.cursor_state = state


class Puller:
    """One pull run for one company's accounting connection, through its adapter."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        adapter: AccountingAdapter,
        target: Target,
        options: PullOptions | None = None,
    ) -> None:
        self.sessions = sessions
        self.adapter = adapter
        self.target = target
        self.options = options or PullOptions()

    def run(self, entity_types: Sequence[str] = ORDER, full: bool = False) -> PullResult:
        """Pull what changed there since each entity type's cursor (everything with `full`)."""
        started = self.options.clock()
        if started.tzinfo is None:
            raise ValueError("PullOptions.clock must return an aware datetime")
        result = PullResult(full=full, started_at=started)
        wanted = [t for t in ORDER if t in entity_types and SPECS[t].enabled(self.target.settings)]
        if not wanted:
            return result
        cursors = read_cursors(self.sessions, self.target.integration_id, wanted)
        since_by_type = {
            t: FAR_PAST if full or at is None else max(FAR_PAST, at - self.options.lag)
            for t, at in cursors.items()
        }
        since = min(since_by_type.values())
        result.since = since
        # One read for the types with a cursor; types never pulled (or a full sync) are read from the start
        # on their own, so enabling one entity type later does not re-list the others.
        fresh = [t for t in wanted if since_by_type[t] == FAR_PAST]
        known = [t for t in wanted if t not in fresh]
        reads = [(min(since_by_type[t] for t in known), known)] if known else []
        reads += [(FAR_PAST, fresh)] if fresh else []
        objects: dict[str, list[dict[str, Any]]] = {t: [] for t in wanted}
        signpost = started
        adapter = self.adapter
        stateful = isinstance(adapter, StatefulFeed) and not full
        unread: set[str] = set()
        feed_state: dict[str, Any] | None = None
        for read_since, types in reads:
            if stateful and types is known and isinstance(adapter, StatefulFeed):
                feed = adapter.changes_from(
                    {t: since_by_type[t] for t in types},
                    now=started,
                    state=read_feed_state(self.sessions, self.target.integration_id),
                    max_objects=self.options.max_objects,
                )
            else:
                feed = adapter.changes(types, read_since, now=started, max_objects=self.options.max_objects)
            if feed.read is not None:
                unread.update(t for t in types if t not in feed.read)
            if feed.state is not None:
                feed_state = feed.state
            result.requests += feed.requests
            result.deletes_complete = result.deletes_complete and feed.deletes_complete
            signpost = min(signpost, feed.as_of)  # never past the start of this sync
            for t in types:
                dated = [
                    (adapter.meta(t, c.document).last_updated, c.document)
                    for c in feed.changes
                    if c.entity_type == t
                ]
                dated = [(at, doc) for at, doc in dated if at is None or at >= since_by_type[t]]
                dated.sort(key=lambda pair: pair[0] or since)
                objects[t] = [doc for _, doc in dated]
        pending: dict[str, dict[str, dict[str, Any]]] = {}
        for t in wanted:
            pending[t] = {}
            for o in objects[t]:
                meta = adapter.meta(t, o)
                if meta.external_id and not meta.deleted:
                    pending[t][meta.external_id] = o
        for entity_type in wanted:
            if entity_type in unread:  # not read this time: its cursor stays where its last read left it
                held = cursors[entity_type]
                if held is not None:
                    result.cursors[entity_type] = held
                continue
            self._phase(
                entity_type, objects[entity_type], pending, signpost, since_by_type[entity_type], result
            )
        if feed_state is not None:
            _write_feed_state(self.sessions, self.target.integration_id, feed_state, started)
        return result

    def _phase(
        self,
        entity_type: str,
        objects: list[dict[str, Any]],
        pending: dict[str, dict[str, dict[str, Any]]],
        signpost: datetime,
        since: datetime,
        result: PullResult,
    ) -> None:
        sync_type = "full_sync" if result.full else "incremental_sync"
        with self.sessions.begin() as session:
            applier = Applier(session, self.adapter, self.target, self.options, result, sync_type, pending)
            for obj in objects:
                applier.apply(entity_type, obj)
            cursor = signpost
            if applier.failed_times:
                # Hold the cursor before the oldest failure so the next run tries it again.
                times = [t for t in applier.failed_times if t is not None]
                cursor = min([signpost, *times]) if len(times) == len(applier.failed_times) else since
            _write_cursor(
                session,
                self.target.integration_id,
                entity_type,
                cursor,
                {
                    "as_of": signpost.isoformat(),
                    "full": result.full,
                    "since": since.isoformat(),
                    "deletes_complete": result.deletes_complete,
                    "held_by_failures": len(applier.failed_times),
                },
            )
            result.cursors[entity_type] = cursor
        counts = result.count(entity_type)
        log.info(
            "pulled %s: %s created, %s updated, %s deleted, %s voided, %s skipped, %s conflicts, %s failed",
            entity_type,
            counts.created,
            counts.updated,
            counts.deleted,
            counts.voided,
            counts.skipped,
            counts.conflicts,
            counts.failed,
        )
