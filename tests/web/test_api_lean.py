"""The lean path of GET /api/v1/projects, /tasks and /invoices (api.lean: answered by the API guard on
PostgreSQL, without the framework) gives the very answers of the FastAPI routes: the same status, bytes and
headers for valid queries, and for everything else (a bad value, a missing permission, a page past the end)
it steps aside and the route answers. Each query is asked of the app as served and of the same app with
`lean_reads` off."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import func, select, text

from sierra_core.db.models import ApiRequestLog, Invoice, Project
from sierra_sync.web import AppDeps
from tests.web.api_helpers import Api
from tests.web.conftest import WebServer

# (path, query, whether the lean path answers it on PostgreSQL)
CASES = [
    ("/api/v1/projects", "", True),
    ("/api/v1/projects", "?status=active", True),
    ("/api/v1/projects", "?status=lead&limit=1", True),
    ("/api/v1/projects", "?limit=1&offset=1", True),
    ("/api/v1/projects", "?limit=2&offset=3", True),
    ("/api/v1/projects", "?offset=50", False),  # past the end: the route counts the total
    ("/api/v1/projects", "?status=cancelled", True),  # no row, first page: total 0
    ("/api/v1/projects", "?unknown=1&limit=2", True),  # an unknown parameter is ignored by both
    ("/api/v1/projects", "?status=lead&status=active", True),  # the last value, as FastAPI takes it
    ("/api/v1/projects", "?limit=%2B3", True),  # "+3": lax integers, as FastAPI validates them
    ("/api/v1/projects", "?status=bidding", False),  # 400 naming the field
    ("/api/v1/projects", "?limit=0", False),
    ("/api/v1/projects", "?limit=101", False),
    ("/api/v1/projects", "?offset=-1", False),
    ("/api/v1/projects", "?limit=abc", False),
    ("/api/v1/projects", "?status=", False),
    ("/api/v1/projects/", "", False),  # not the route's path
    ("/api/v1/tasks", "", True),
    ("/api/v1/tasks", "?project_id={project}", True),
    ("/api/v1/tasks", "?project_id={project}&status=todo", True),
    ("/api/v1/tasks", "?project_id={other}", True),  # another company's project: an empty page
    ("/api/v1/tasks", "?project_id=not-a-uuid", False),
    ("/api/v1/tasks", "?status=later", False),
    ("/api/v1/invoices", "", True),
    ("/api/v1/invoices", "?customer_id={customer}", True),
    ("/api/v1/invoices", "?customer_id={customer}&project_id={project}", True),  # none of them: total 0
    ("/api/v1/invoices", "?status={status}&limit=1", True),
    ("/api/v1/invoices", "?status=unpaid", False),
    ("/api/v1/invoices", "?project_id=x", False),
]


def _more_projects(api: Api) -> None:
    with api.deps.sessions.begin() as s:
        s.add_all(
            Project(company_id=api.a.company_id, name=f"Lean {i}", status="lead" if i % 2 else "active")
            for i in range(6)
        )


@contextmanager
def _lean_off(api: Api, web_server: WebServer) -> Iterator[httpx.Client]:
    deps = AppDeps(sessions=api.deps.sessions, webhook_keyring=api.deps.webhook_keyring, lean_reads=False)
    with web_server.serve(deps) as client:
        yield client


def _answer(response: httpx.Response) -> tuple[int, bytes, str | None, str | None, bool]:
    headers = response.headers
    return (
        response.status_code,
        response.content,
        headers.get("content-type"),
        headers.get("x-ratelimit-limit"),
        "x-ratelimit-remaining" in headers,
    )


def test_the_lean_path_answers_as_the_routes_do(api: Api, web_server: WebServer) -> None:
    _more_projects(api)
    key = api.a.keys["all"]
    auth = {"Authorization": f"Bearer {key}"}
    with api.deps.sessions() as s:
        status = s.scalar(select(Invoice.status).where(Invoice.id == api.a.ids["invoice"]))
    ids = {
        "project": api.a.ids["project"],
        "other": api.b.ids["project"],
        "customer": api.a.ids["contact"],
        "status": status,
    }
    urls = [(path + query.format(**ids), lean) for path, query, lean in CASES]
    lean = api.app.state.lean_reads
    on_postgres = api.deps.sessions.kw["bind"].dialect.name == "postgresql"
    answers = {}
    for url, expected in urls:
        before = lean.served
        answers[url] = _answer(api.client.get(url, headers=auth, follow_redirects=False))
        assert lean.served - before == (1 if expected and on_postgres else 0), url
    api.flush_log()
    with _lean_off(api, web_server) as client:
        for url, _ in urls:
            assert _answer(client.get(url, headers=auth, follow_redirects=False)) == answers[url], url
    assert answers["/api/v1/projects?offset=50"][0] == 200
    assert answers["/api/v1/projects?status=bidding"][0] == 400
    # Every answer of the lean path is in the request log, like the route's.
    with api.deps.sessions() as s:
        logged = s.scalar(
            select(func.count()).select_from(ApiRequestLog).where(ApiRequestLog.api_key_id.is_not(None))
        )
    assert logged is not None and logged >= len(urls)


def test_without_the_permission_the_route_answers_403(api: Api, web_server: WebServer) -> None:
    key = api.a.keys["projects_r"]  # projects:r only
    lean = api.app.state.lean_reads
    before = lean.served
    tasks = api.call("GET", "/api/v1/tasks", key)
    assert tasks.status_code == 403
    assert "tasks:r" in tasks.json()["error"]["message"]
    projects = api.call("GET", "/api/v1/projects", key)
    assert projects.status_code == 200
    assert lean.served - before == (1 if lean.enabled else 0)
    with _lean_off(api, web_server) as client:
        again = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {key}"})
    assert (again.status_code, again.content) == (tasks.status_code, tasks.content)


def test_the_lean_path_runs_only_on_postgresql(api: Api) -> None:
    dialect = api.deps.sessions.kw["bind"].dialect.name
    assert api.app.state.lean_reads.enabled is (dialect == "postgresql")


def test_a_lost_connection_is_answered_by_the_route_then_the_pool_recovers(api: Api) -> None:
    lean = api.app.state.lean_reads
    if not lean.enabled:
        pytest.skip("the lean path runs on PostgreSQL only")
    key = api.a.keys["all"]
    first = api.call("GET", "/api/v1/projects", key)
    assert first.status_code == 200 and lean.served == 1
    with api.deps.sessions() as s:  # what a database restart does to the pool's connections
        ended = s.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
            {"name": lean.application_name},
        ).all()
    assert ended and all(row[0] for row in ended)
    again = [api.call("GET", "/api/v1/projects", key) for _ in range(3)]
    assert [(r.status_code, r.content) for r in again] == [(200, first.content)] * 3
    assert 1 < lean.served < 4  # the broken connection's request went to the route; then lean again
