"""Which connected companies a scheduled incremental sync takes on this run: each integration's
`settings.sync_frequency`, chosen on the hub's settings page.

* `realtime` (the default: no choice saved, or a value this version does not know): every run;
* `hourly` / `daily`: only when the last successful sync is older than an hour / a day (less `EARLY`, so a
  sync that finished a little after the scheduled run's start is not skipped by a hair and pushed a whole
  schedule interval later), or there never was one;
* `auto_sync` false ("Sync automatically" unticked): never; only "Sync now" syncs it.

The last successful sync of an integration is the latest of: when its pull cursors were last committed
(a pull that completed, even with nothing to bring: `sync_cursors.updated_at`, this database's clock), and
`integrations.last_sync_at` when `last_sync_status` is success (a recorded attempt that succeeded). A company
is due when any of its connected integrations of `SCHEDULED_TYPES` is due, and when it has none (the caller
chose it; this filter only ever holds back).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.accounting.pull import FEED
from sierra_core.db.models import Integration, SyncCursor
from sierra_core.db.types import utcnow
from tasks.runtime import sessions

__all__ = ["EARLY", "PERIODS", "SCHEDULED_TYPES", "due_companies", "due_now", "is_due", "period_of"]

PERIODS: dict[str, timedelta | None] = {
    "realtime": None,
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
}
EARLY = timedelta(minutes=5)  # a third of the 15-minute schedule of incremental-sync-all (prefect.yaml)
SCHEDULED_TYPES = ("quickbooks_online", "xero")  # the accounting integrations the scheduled sync runs

C = TypeVar("C", bound=tuple[Any, ...])


def period_of(settings: dict[str, Any] | None) -> timedelta | None:
    """How long an integration waits between scheduled syncs (None: every run)."""
    return PERIODS.get(str((settings or {}).get("sync_frequency") or "realtime"))


def is_due(
    settings: dict[str, Any] | None, last_success: datetime | None, now: datetime, early: timedelta = EARLY
) -> bool:
    """Whether a scheduled sync at `now` should sync an integration with these settings."""
    if (settings or {}).get("auto_sync") is False:
        return False
    period = period_of(settings)
    if period is None or last_success is None:
        return True
    return now - last_success >= period - early


def _last_successes(session: Session, integration_ids: list[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    pulled = dict(
        session.execute(
            select(SyncCursor.integration_id, func.max(SyncCursor.updated_at))
            .where(
                SyncCursor.integration_id.in_(integration_ids),
                SyncCursor.direction == "pull",
                SyncCursor.entity_type != FEED,
            )
            .group_by(SyncCursor.integration_id)
        ).all()
    )
    out: dict[uuid.UUID, datetime] = {k: v for k, v in pulled.items() if v is not None}
    for iid, at in session.execute(
        select(Integration.id, Integration.last_sync_at).where(
            Integration.id.in_(integration_ids),
            Integration.last_sync_status == "success",
            Integration.last_sync_at.is_not(None),
        )
    ).all():
        if at is not None:
            out[iid] = max(at, out[iid]) if iid in out else at
    return out


def due_companies(
    session: Session,
    companies: Sequence[C],
    now: datetime,
    *,
    types: Collection[str] = SCHEDULED_TYPES,
    early: timedelta = EARLY,
) -> list[C]:
    """The entries of `companies` (tuples whose first item is the company id) due at `now`, in order."""
    if not companies:
        return []
    ids = {uuid.UUID(str(c[0])) for c in companies}
    rows = session.execute(
        select(Integration.id, Integration.company_id, Integration.settings).where(
            Integration.company_id.in_(ids),
            Integration.integration_type.in_(list(types)),
            Integration.connection_status == "connected",
            Integration.is_active.is_(True),
        )
    ).all()
    last = _last_successes(session, [r.id for r in rows]) if rows else {}
    verdicts: dict[uuid.UUID, bool] = {}
    for row in rows:
        due = is_due(row.settings, last.get(row.id), now, early)
        verdicts[row.company_id] = verdicts.get(row.company_id, False) or due
    return [c for c in companies if verdicts.get(uuid.UUID(str(c[0])), True)]


def due_now(companies: Sequence[C]) -> list[C]:
    """`due_companies` on the app database (SIERRA_DATABASE_URL) at the current time."""
    with sessions()() as session:
        return due_companies(session, companies, utcnow())
