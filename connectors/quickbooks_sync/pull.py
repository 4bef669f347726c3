"""Pull QuickBooks changes into the app: customers, invoices, payments and expenses, in that order.

One read covers every entity type: a single CDC call from the oldest cursor minus a small lag window
(QBO's client falls back to LastUpdatedTime queries past 30 days; a full sync reads from far in the past).
Objects seen before are skipped by the SyncToken their link holds, so the lag window costs nothing.

Each entity type is applied in one transaction together with its new cursor (dlt's habit: state commits
with the data). The new cursor is the sync's start time (Singer's signpost), never later, so a change QBO
commits while we read is picked up by the next run. When an object fails, the cursor stays at that
object's LastUpdatedTime so the next run tries it again.

    with open_client(...) as client:
        result = Puller(sessions, client, Target(...), PullOptions(trigger="scheduled")).run(full=False)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.quickbooks import cdc as cdc_mod
from connectors.quickbooks.client import QuickBooksClient
from connectors.quickbooks_sync.pull_apply import Applier
from connectors.quickbooks_sync.pull_types import QBO_ENTITIES, PullOptions, PullResult
from connectors.quickbooks_sync.push_types import Target
from connectors.quickbooks_sync.specs import ORDER, SPECS
from sierra_core.db.models import SyncCursor

__all__ = ["FAR_PAST", "Puller", "read_cursors"]

log = logging.getLogger("sierra_sync.pull")

FAR_PAST = datetime(2000, 1, 1, tzinfo=UTC)  # "everything": QBO's client lists it by query


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
    """One pull run for one company's QuickBooks connection."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: QuickBooksClient,
        target: Target,
        options: PullOptions | None = None,
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.target = target
        self.options = options or PullOptions()

    def run(self, entity_types: Sequence[str] = ORDER, full: bool = False) -> PullResult:
        """Pull what changed in QuickBooks since each entity type's cursor (everything with `full`)."""
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
        for read_since, types in reads:
            changes = self.client.cdc(
                [QBO_ENTITIES[t] for t in types],
                read_since,
                now=started,
                max_objects=self.options.max_objects,
            )
            result.requests += changes.requests
            result.deletes_complete = result.deletes_complete and changes.deletes_complete
            signpost = min(signpost, changes.as_of)  # never past the start of this sync
            for t in types:
                entity = QBO_ENTITIES[t]
                objects[t] = [
                    o
                    for o in [*changes.changed(entity), *changes.deleted(entity)]
                    if (at := cdc_mod.last_updated(o)) is None or at >= since_by_type[t]
                ]
                objects[t].sort(key=lambda o: cdc_mod.last_updated(o) or since)
        pending = {
            t: {
                str(o["Id"]): o
                for o in objects[t]
                if o.get("Id") is not None and o.get("status") != "Deleted"
            }
            for t in wanted
        }
        for entity_type in wanted:
            self._phase(
                entity_type, objects[entity_type], pending, signpost, since_by_type[entity_type], result
            )
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
            applier = Applier(session, self.client, self.target, self.options, result, sync_type, pending)
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
