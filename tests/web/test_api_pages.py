"""List pages written straight from the database's types (orjson) are the very text pydantic writes for
the same page (Page[out]): every field filled, a budget with cents, dates, microseconds, a UTC timestamp."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, select, update

from sierra_core.db.models import IntegrationSyncLog, Invoice, Project, ProjectTask
from sierra_sync.web.api.common import columns, page, windowed
from sierra_sync.web.api.pgjson import as_json_rows
from sierra_sync.web.api.projects import _project_list
from sierra_sync.web.api.schemas import (
    ContactOut,
    InvoiceOut,
    Page,
    ProjectOut,
    SubscriptionOut,
    SyncLogOut,
    TaskOut,
)
from tests.web.api_helpers import Api

FULL = {
    "name": "Kitchen — Ünïcode",
    "description": 'Quotes " and \\ backslashes\nand a new line',
    "project_type": "remodel",
    "estimated_budget": "480000.50",
    "start_date": "2026-03-01",
    "target_completion": "2026-09-30",
    "status": "planning",
    "code": "K-77",
    "site_address": "1 Main St",
}


def test_a_project_page_is_what_pydantic_writes(api: Api) -> None:
    key = api.a.keys["all"]
    created = api.call("POST", "/api/v1/projects", key, {**FULL, "client_id": str(api.a.ids["contact"])})
    assert created.status_code == 201, created.text
    for query in ("", "?status=planning", "?limit=1&offset=1", "?limit=2&offset=50"):
        listed = api.call("GET", f"/api/v1/projects{query}", key)
        assert listed.status_code == 200, listed.text
        assert (
            listed.content == Page[ProjectOut].model_validate_json(listed.content).model_dump_json().encode()
        )
    page = api.call("GET", "/api/v1/projects?status=planning", key).json()
    assert page["pagination"] == {"limit": 50, "offset": 0, "total": 1, "has_more": False}
    assert page["data"] == [created.json()["data"]]
    past = api.call("GET", "/api/v1/projects?status=planning&offset=5", key).json()
    assert past["pagination"]["total"] == 1 and past["data"] == []


# Values whose JSON text is easy to get wrong: control characters (escaped), DEL and U+2028 (not escaped),
# quotes, backslashes, a timestamp on a whole second (no ".000000"), cents, a zero amount, a null.
AWKWARD = 'tab\there \x01\x1f\x7f \u2028 "q" \\ / é 漢'
WHOLE_SECOND = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
SOME_MICROSECONDS = datetime(2026, 5, 4, 3, 2, 1, 120, tzinfo=UTC)


def _awkward_rows(api: Api) -> None:
    ids = api.a.ids
    with api.deps.sessions.begin() as s:
        s.execute(
            update(Project)
            .where(Project.id == ids["project"])
            .values(
                description=AWKWARD,
                budget=Decimal("0.00"),
                start_date=date(999, 1, 2),
                created_at=WHOLE_SECOND,
                updated_at=SOME_MICROSECONDS,
            )
        )
        s.execute(
            update(ProjectTask)
            .where(ProjectTask.id == ids["task"])
            .values(description=AWKWARD, estimated_hours=Decimal("12.50"), completed_at=WHOLE_SECOND)
        )
        s.execute(update(Invoice).where(Invoice.id == ids["invoice"]).values(memo=AWKWARD))
        s.execute(
            update(IntegrationSyncLog)
            .where(IntegrationSyncLog.id == ids["log"])
            .values(error_message=AWKWARD, started_at=WHOLE_SECOND)
        )


LISTS = {
    "/api/v1/projects": ProjectOut,
    "/api/v1/tasks": TaskOut,
    "/api/v1/projects/{project}/tasks": TaskOut,
    "/api/v1/contacts": ContactOut,
    "/api/v1/invoices": InvoiceOut,
    "/api/v1/sync-logs": SyncLogOut,
    "/api/v1/webhooks": SubscriptionOut,
}


def test_every_list_page_is_what_pydantic_writes_even_for_awkward_values(api: Api) -> None:
    _awkward_rows(api)
    key = api.a.keys["all"]
    for path, out in LISTS.items():
        listed = api.call("GET", path.format(project=api.a.ids["project"]), key)
        assert listed.status_code == 200, (path, listed.text)
        redone = Page[out].model_validate_json(listed.content).model_dump_json().encode()  # type: ignore[valid-type]
        assert listed.content == redone, path
        assert listed.json()["data"], path
    project = api.call("GET", "/api/v1/projects", key).json()["data"][0]
    assert project["description"] == AWKWARD
    assert project["created_at"] == "2026-05-04T03:02:01Z"
    assert project["updated_at"] == "2026-05-04T03:02:01.000120Z"
    assert project["estimated_budget"] == "0.00"
    assert project["start_date"] == "0999-01-02"
    assert project == api.call("GET", f"/api/v1/projects/{api.a.ids['project']}", key).json()["data"]
    task = api.call("GET", "/api/v1/tasks", key).json()["data"][0]
    assert (task["estimated_hours"], task["completed_at"]) == ("12.50", "2026-05-04T03:02:01Z")


def _pages(company_id: uuid.UUID) -> list[tuple[Select[Any], type[BaseModel], dict[str, Any] | None]]:
    """Page statements as the routes build them: (statement, model, bound values of a prebuilt one)."""
    log = IntegrationSyncLog
    return [
        (_project_list(False), ProjectOut, {"company_id": company_id}),
        (_task_query_of(company_id).order_by(ProjectTask.created_at.desc(), ProjectTask.id), TaskOut, None),
        (
            select(*columns(InvoiceOut, Invoice))
            .where(Invoice.company_id == company_id)
            .order_by(Invoice.issue_date.desc(), Invoice.invoice_number, Invoice.id),
            InvoiceOut,
            None,
        ),
        (
            select(*columns(SyncLogOut, log))
            .where(log.company_id == company_id)
            .order_by(log.started_at.desc()),
            SyncLogOut,
            None,
        ),
    ]


def _task_query_of(company_id: uuid.UUID) -> Select[Any]:
    return select(*columns(TaskOut, ProjectTask)).where(ProjectTask.company_id == company_id)


def test_postgres_writes_the_same_pages_as_python(api: Api) -> None:
    """On PostgreSQL these pages come as JSON text from the database (api.pgjson); the same rows through
    pydantic give the same bytes, in the same order, with the same total, on every page (and on SQLite the
    two Python paths agree)."""
    _awkward_rows(api)
    with api.deps.sessions.begin() as s:  # more rows, so that order and offsets matter
        s.add_all(
            Project(company_id=api.a.company_id, name=f"P{i}", status="lead", created_at=WHOLE_SECOND)
            for i in range(7)
        )
    with api.deps.sessions() as s:
        conn = s.connection()
        for query, out, params in _pages(api.a.company_id):
            paged = query if params is not None else windowed(query)
            if conn.dialect.name == "postgresql":
                assert as_json_rows(paged, out) is not None, out
            for limit, offset in ((50, 0), (1, 1), (3, 0), (3, 3), (5, 50)):
                fast = page(conn, query, limit, offset, out, params=params)
                slow = page(conn, query, limit, offset, out, shape=dict, params=params)
                assert fast.body == slow.body, (out, limit, offset)
