"""The sync log: filters (status, entity, from date), 50 rows a page, and the same selection as CSV
(`connectors.synclog_export`: redacted, spreadsheet-safe cells, streamed)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.engine import Engine

from connectors.csvsafe import safe_row
from connectors.synclog_export import EXPORT_COLUMNS, iter_sync_log_rows
from sierra_core.db.models import IntegrationSyncLog
from sierra_core.db.models.integration import SYNC_LOG_STATUSES
from sierra_core.redact import redact_text
from sierra_sync.web.hub.auth import Viewer, app_deps
from sierra_sync.web.hub.pages import render

__all__ = ["router"]

router = APIRouter(prefix="/hub", include_in_schema=False)
ENTITIES = ("customer", "invoice", "payment", "expense", "refund")
PAGE = 50


@dataclass(frozen=True)
class Filters:
    status: str
    entity: str
    since: date | None
    page: int
    errors: tuple[str, ...]

    @property
    def since_at(self) -> datetime | None:
        return datetime.combine(self.since, time.min, tzinfo=UTC) if self.since else None

    def query(self) -> str:
        parts = [
            f"status={self.status}" if self.status else "",
            f"entity={self.entity}" if self.entity else "",
        ]
        if self.since:
            parts.append(f"since={self.since.isoformat()}")
        return "&".join(p for p in parts if p)


def filters(request: Request) -> Filters:
    q = request.query_params
    errors = []
    status = q.get("status", "")
    if status and status not in SYNC_LOG_STATUSES:
        errors.append(f"Status must be one of: {', '.join(SYNC_LOG_STATUSES)}.")
        status = ""
    entity = q.get("entity", "")
    if entity and entity not in ENTITIES:
        errors.append(f"Record type must be one of: {', '.join(ENTITIES)}.")
        entity = ""
    since = None
    if q.get("since"):
        try:
            since = date.fromisoformat(q["since"])
        except ValueError:
            errors.append("From date must be a date such as 2026-11-01.")
    try:
        page = max(1, int(q.get("page", "1")))
    except ValueError:
        page = 1
    return Filters(status, entity, since, page, tuple(errors))


@router.get("/logs")
def sync_log(request: Request, me: Viewer) -> Response:
    f = filters(request)
    log = IntegrationSyncLog
    stmt = select(log).where(log.company_id == me.company_id)
    if f.status:
        stmt = stmt.where(log.status == f.status)
    if f.entity:
        stmt = stmt.where(log.entity_type == f.entity)
    if f.since_at:
        stmt = stmt.where(log.started_at >= f.since_at)
    stmt = stmt.order_by(log.started_at.desc(), log.id).offset((f.page - 1) * PAGE).limit(PAGE + 1)
    with app_deps(request).sessions() as session:
        rows = list(session.scalars(stmt))
    shown = [
        {
            "row": r,
            "error": redact_text(r.error_message) if r.error_message else None,
        }
        for r in rows[:PAGE]
    ]
    return render(
        request,
        "logs.html",
        me,
        section="logs",
        rows=shown,
        f=f,
        more=len(rows) > PAGE,
        statuses=SYNC_LOG_STATUSES,
        entities=ENTITIES,
        status_code=400 if f.errors else 200,
    )


def _csv(engine: Engine, me: Viewer, f: Filters) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for cells in iter_sync_log_rows(
        engine,
        me.company_id,
        since=f.since_at,
        statuses=[f.status] if f.status else [],
        entity_types=[f.entity] if f.entity else [],
    ):
        writer.writerow(safe_row(cells))
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@router.get("/logs.csv")
def sync_log_csv(request: Request, me: Viewer) -> Response:
    f = filters(request)
    engine = app_deps(request).sessions.kw["bind"]
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        _csv(engine, me, f),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="sync-log-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )
