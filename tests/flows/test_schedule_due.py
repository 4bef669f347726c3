"""The scheduled incremental sync honours each company's sync_frequency (hub settings): realtime every run,
hourly/daily only once the last successful sync is that old, never with auto_sync off."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from connectors.accounting.pull import FEED
from flows.sync import sync_all_companies
from sierra_core.db.models import Integration, SyncCursor
from sierra_core.db.types import utcnow
from tasks.schedule_due import EARLY, due_companies, is_due
from tests import factories

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def test_is_due_by_frequency_and_last_success():
    now = utcnow()
    assert is_due(None, now, now) and is_due({}, now, now)  # no choice saved: realtime
    assert is_due({"sync_frequency": "realtime"}, now - timedelta(seconds=1), now)
    assert is_due({"sync_frequency": "weekly"}, now, now)  # unknown: realtime, never held back
    assert is_due({"sync_frequency": "hourly"}, None, now)  # never synced
    assert not is_due({"sync_frequency": "hourly"}, now - HOUR + EARLY + timedelta(seconds=1), now)
    assert is_due({"sync_frequency": "hourly"}, now - HOUR + EARLY, now)
    assert not is_due({"sync_frequency": "daily"}, now - 20 * HOUR, now)
    assert is_due({"sync_frequency": "daily"}, now - DAY, now)
    assert not is_due({"sync_frequency": "realtime", "auto_sync": False}, None, now)


def test_due_companies_reads_settings_cursors_and_outcomes(sessions):
    now = utcnow()
    companies: list[tuple[str, str]] = []

    def make(
        name: str,
        settings: dict[str, Any] | None,
        *,
        pulled: timedelta | None = None,
        outcome: tuple[str, timedelta] | None = None,
        **kw: Any,
    ) -> None:
        with sessions.begin() as s:
            company = factories.company(s, name)
            companies.append((str(company.id), name))
            if settings is None:
                return
            row = factories.integration(
                s, company.id, connection_status="connected", is_active=True, settings=settings, **kw
            )
            if pulled is not None:
                for entity in ("customer", "invoice"):
                    s.add(
                        SyncCursor(
                            integration_id=row.id,
                            entity_type=entity,
                            direction="pull",
                            cursor_at=now - DAY * 30,  # QuickBooks's time: not what counts
                            updated_at=now - pulled - (HOUR if entity == "customer" else timedelta()),
                        )
                    )
            if outcome is not None:
                row.last_sync_status, row.last_sync_at = outcome[0], now - outcome[1]

    make("realtime, just synced", {"sync_frequency": "realtime"}, pulled=timedelta(minutes=1))
    make("hourly, pulled 30 min ago", {"sync_frequency": "hourly"}, pulled=timedelta(minutes=30))
    make("hourly, pulled 2 h ago", {"sync_frequency": "hourly"}, pulled=2 * HOUR)
    make("hourly, pulled 2 h ago, flagged now", {"sync_frequency": "hourly"}, pulled=2 * HOUR)
    with sessions.begin() as s:  # a webhook flag touches the feed's row: that is no pull
        flagged = s.scalar(
            select(Integration.id).where(Integration.company_id == uuid.UUID(companies[-1][0]))
        )
        s.add(SyncCursor(integration_id=flagged, entity_type=FEED, direction="pull", updated_at=now))
    make(
        "hourly, old pull, recent success",
        {"sync_frequency": "hourly"},
        pulled=3 * HOUR,
        outcome=("success", timedelta(minutes=10)),
    )
    make(
        "hourly, old pull, recent failure",
        {"sync_frequency": "hourly"},
        pulled=3 * HOUR,
        outcome=("failed", timedelta(minutes=10)),
    )
    make("daily, never synced", {"sync_frequency": "daily"})
    make("daily, pulled 3 h ago", {"sync_frequency": "daily"}, pulled=3 * HOUR)
    make("daily, pulled 25 h ago", {"sync_frequency": "daily"}, pulled=25 * HOUR)
    make("auto sync off", {"sync_frequency": "realtime", "auto_sync": False})
    make("no integration row", None)
    make("hourly, disconnected", {"sync_frequency": "hourly"}, pulled=timedelta(minutes=1))
    with sessions.begin() as s:  # a disconnected row does not count: the company keeps its verdict
        s.execute(
            update(Integration)
            .where(Integration.company_id == uuid.UUID(companies[-1][0]))
            .values(connection_status="disconnected")
        )
    # A realtime Stripe connection does not make an hourly QuickBooks company due.
    make("hourly + stripe", {"sync_frequency": "hourly"}, pulled=timedelta(minutes=5))
    with sessions.begin() as s:
        factories.integration(
            s,
            uuid.UUID(companies[-1][0]),
            integration_type="stripe",
            connection_status="connected",
            is_active=True,
            settings={"sync_frequency": "realtime"},
        )

    with sessions() as s:
        due = [name for _, name in due_companies(s, companies, now)]
        assert due_companies(s, [], now) == []
    assert due == [
        "realtime, just synced",
        "hourly, pulled 2 h ago",
        "hourly, pulled 2 h ago, flagged now",
        "hourly, old pull, recent failure",
        "daily, never synced",
        "daily, pulled 25 h ago",
        "no integration row",
        "hourly, disconnected",
    ]


def test_sync_all_companies_skips_an_hourly_company_until_it_is_due(flow_env):
    company_id = flow_env.connection.company_id

    def frequency(value: str) -> None:
        with flow_env.sessions.begin() as s:
            row = s.get(Integration, flow_env.connection.integration_id)
            assert row is not None
            row.settings = {**row.settings, "sync_frequency": value}

    frequency("hourly")
    first = sync_all_companies()
    assert first["companies"] == 1 and first["failed"] == 0, first
    assert sync_all_companies()["companies"] == 0  # synced a moment ago: due in an hour
    with flow_env.sessions.begin() as s:  # an hour later (as far as the stored times tell)
        s.execute(
            update(SyncCursor)
            .where(SyncCursor.integration_id == flow_env.connection.integration_id)
            .values(updated_at=utcnow() - HOUR)
        )
        s.execute(
            update(Integration)
            .where(Integration.company_id == company_id)
            .values(last_sync_at=utcnow() - HOUR)
        )
    assert sync_all_companies()["companies"] == 1
    # That run had nothing to push, yet its pull completed: it counts as the last successful sync.
    assert sync_all_companies()["companies"] == 0
    frequency("realtime")
    assert sync_all_companies()["companies"] == 1  # realtime: every run
    frequency("daily")
    assert sync_all_companies()["companies"] == 0
    assert sync_all_companies(mode="full")["companies"] == 1  # the weekly full sync takes everyone
