"""The public API over HTTP on both dialects: auth, permission x company isolation, validation, conflicts,
idempotency, rate limits with their headers, the request log and the CLI."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from connectors.apikeys import create_key, parse_permissions
from sierra_core.db.models import ApiKey, ApiRequestLog, Contact, Project
from tests.web.api_helpers import Api, World
from tests.web.conftest import wait_for

# (method, path, resource, mode, body); {x} are filled with the row ids of a company.
ENDPOINTS: list[tuple[str, str, str, str, Any]] = [
    ("GET", "/api/v1/projects", "projects", "r", None),
    ("POST", "/api/v1/projects", "projects", "w", {"name": "Garage"}),
    ("GET", "/api/v1/projects/{project}", "projects", "r", None),
    ("PATCH", "/api/v1/projects/{project}", "projects", "w", {"status": "on_hold"}),
    ("GET", "/api/v1/projects/{project}/tasks", "tasks", "r", None),
    ("POST", "/api/v1/projects/{project}/tasks", "tasks", "w", {"title": "Frame walls"}),
    ("GET", "/api/v1/projects/{project}/tasks/{task}", "tasks", "r", None),
    ("PATCH", "/api/v1/projects/{project}/tasks/{task}", "tasks", "w", {"status": "done"}),
    ("GET", "/api/v1/tasks", "tasks", "r", None),
    ("GET", "/api/v1/contacts", "contacts", "r", None),
    ("GET", "/api/v1/contacts/{contact}", "contacts", "r", None),
    ("GET", "/api/v1/invoices", "invoices", "r", None),
    ("GET", "/api/v1/invoices/{invoice}", "invoices", "r", None),
    ("GET", "/api/v1/sync-logs", "sync_logs", "r", None),
    ("GET", "/api/v1/integrations", "integrations", "r", None),
    ("GET", "/api/v1/webhooks", "webhooks", "r", None),
    ("GET", "/api/v1/webhooks/{subscription}", "webhooks", "r", None),
    ("PATCH", "/api/v1/webhooks/{subscription}", "webhooks", "w", {"events": ["invoice.synced"]}),
    ("GET", "/api/v1/webhooks/{subscription}/deliveries", "webhooks", "r", None),
    ("POST", "/api/v1/webhooks/{subscription}/rotate-secret", "webhooks", "w", {}),
]


def _path(template: str, world: World) -> str:
    return template.format(**world.ids)


def test_permission_and_company_isolation_matrix(api: Api) -> None:
    for method, template, resource, mode, body in ENDPOINTS:
        own, other = _path(template, api.a), _path(template, api.b)
        label = f"{method} {template}"
        assert api.call(method, own, None, body).status_code == 401, label
        assert api.call(method, own, "sk_live_notakey", body).status_code == 401, label
        limited = api.call(method, own, api.a.keys["projects_r"], body)
        expected = 403 if (resource, mode) != ("projects", "r") else 200
        assert limited.status_code == expected, label
        if expected == 403:
            assert resource in limited.json()["error"]["message"]
        ok = api.call(method, own, api.a.keys["all"], body)
        assert ok.status_code in (200, 201), (label, ok.text)
        if "{" in template:
            crossed = api.call(method, other, api.a.keys["all"], body)
            assert crossed.status_code == 404, label
            assert crossed.json()["error"]["code"] == "not_found"
        elif method == "GET":
            other_ids = {str(v) for v in api.b.ids.values()}
            assert not {row["id"] for row in ok.json()["data"]} & other_ids, label
    # The other company's rows are untouched by everything above.
    with api.deps.sessions() as s:
        assert s.get(Project, api.b.ids["project"]).status == "active"  # type: ignore[union-attr]


def test_revoked_and_expired_keys_get_401_at_once(api: Api, sessions) -> None:
    key = api.a.keys["all"]
    assert api.call("GET", "/api/v1/projects", key).status_code == 200
    with sessions.begin() as s:
        row = s.scalar(select(ApiKey).where(ApiKey.company_id == api.a.company_id, ApiKey.key_name == "all"))
        row.revoked_at = datetime.now(UTC)
        short = create_key(
            s,
            api.a.company_id,
            "short",
            parse_permissions("projects:r"),
            expires_at=datetime.fromtimestamp(api.now[0], UTC) + timedelta(hours=1),  # the API's clock
        )
    revoked = api.call("GET", "/api/v1/projects", key)
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "key_revoked"
    assert api.call("GET", "/api/v1/projects", short.raw).status_code == 200
    api.now[0] += 3601
    expired = api.call("GET", "/api/v1/projects", short.raw)
    assert (expired.status_code, expired.json()["error"]["code"]) == (401, "key_expired")


def test_validation_conflict_and_idempotency(api: Api) -> None:
    key = api.a.keys["all"]
    bad = api.call(
        "POST", "/api/v1/projects", key, {"name": "", "status": "done", "estimated_budget": "1.234", "x": 1}
    )
    assert bad.status_code == 400
    fields = {d["field"] for d in bad.json()["error"]["details"]}
    assert {"name", "status", "estimated_budget", "x"} <= fields
    assert api.call("POST", "/api/v1/projects", key).status_code == 400  # no body at all
    other_contact = str(api.b.ids["contact"])
    foreign = api.call("POST", "/api/v1/projects", key, {"name": "X", "client_id": other_contact})
    assert foreign.status_code == 400
    assert foreign.json()["error"]["details"][0]["field"] == "client_id"
    assert api.call("GET", "/api/v1/projects/not-a-uuid", key).status_code == 400

    first = api.call(
        "POST", "/api/v1/projects", key, {"name": "Deck", "code": "D-1"}, **{"Idempotency-Key": "k-1"}
    )
    again = api.call(
        "POST", "/api/v1/projects", key, {"name": "Deck", "code": "D-1"}, **{"Idempotency-Key": "k-1"}
    )
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json() == again.json()
    reused = api.call("POST", "/api/v1/projects", key, {"name": "Other"}, **{"Idempotency-Key": "k-1"})
    assert reused.status_code == 409
    clash = api.call("POST", "/api/v1/projects", key, {"name": "Deck 2", "code": "D-1"})
    assert (clash.status_code, clash.json()["error"]["code"]) == (409, "conflict")
    with api.deps.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Project).where(Project.code == "D-1")) == 1


def test_pagination_has_a_true_total_and_status_filter(api: Api) -> None:
    key = api.a.keys["all"]
    for i in range(4):
        api.call("POST", "/api/v1/projects", key, {"name": f"P{i}", "status": "lead" if i % 2 else "active"})
    page = api.call("GET", "/api/v1/projects?limit=2&offset=1", key).json()
    assert page["pagination"] == {"limit": 2, "offset": 1, "total": 5, "has_more": True}
    assert len(page["data"]) == 2
    last = api.call("GET", "/api/v1/projects?limit=2&offset=4", key).json()
    assert last["pagination"] == {"limit": 2, "offset": 4, "total": 5, "has_more": False}
    assert len(last["data"]) == 1
    # A page past the end has no row to carry the total: it is still the true total.
    past = api.call("GET", "/api/v1/projects?limit=2&offset=9", key).json()
    assert past == {"data": [], "pagination": {"limit": 2, "offset": 9, "total": 5, "has_more": False}}
    walked = [
        p["id"]
        for offset in range(0, 5, 2)
        for p in api.call("GET", f"/api/v1/projects?limit=2&offset={offset}", key).json()["data"]
    ]
    assert len(walked) == len(set(walked)) == 5  # pages never repeat or skip a row
    leads = api.call("GET", "/api/v1/projects?status=lead", key).json()
    assert leads["pagination"]["total"] == 2
    assert {p["status"] for p in leads["data"]} == {"lead"}
    assert api.call("GET", "/api/v1/projects?limit=0", key).status_code == 400
    logs = api.call("GET", "/api/v1/sync-logs?status=failed&entity_type=invoice", key).json()
    assert logs["pagination"]["total"] == 1
    assert api.call("GET", "/api/v1/sync-logs?status=success", key).json()["pagination"]["total"] == 0
    since = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert (
        api.client.get(
            "/api/v1/sync-logs", params={"since": since}, headers={"Authorization": f"Bearer {key}"}
        ).json()["pagination"]["total"]
        == 0
    )


def test_rate_limit_headers_429_and_request_log(api: Api, sessions) -> None:
    with sessions.begin() as s:
        key = create_key(
            s,
            api.a.company_id,
            "tiny",
            parse_permissions("projects:r"),
            rate_limit_per_hour=3,
            rate_limit_per_day=100,
        ).raw
    seen = []
    for _ in range(3):
        r = api.call("GET", "/api/v1/projects", key, **{"User-Agent": "matrix-test"})
        assert r.status_code == 200
        seen.append(int(r.headers["X-RateLimit-Remaining"]))
        assert r.headers["X-RateLimit-Limit"] == "3"
    assert seen == [2, 1, 0]
    limited = api.call("GET", "/api/v1/projects", key)
    assert limited.status_code == 429
    retry = int(limited.headers["Retry-After"])
    assert 0 < retry <= 3600
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    reset = int(limited.headers["X-RateLimit-Reset"])
    assert reset % 3600 == 0
    api.now[0] = reset + 1  # the next hour: room again
    assert api.call("GET", "/api/v1/projects", key).status_code == 200
    api.flush_log()
    with sessions() as s:
        rows = s.scalars(select(ApiRequestLog).where(ApiRequestLog.user_agent == "matrix-test")).all()
        assert len(rows) == 3
        assert {(r.method, r.path, r.status_code) for r in rows} == {("GET", "/api/v1/projects", 200)}
        flagged = s.scalars(select(ApiRequestLog).where(ApiRequestLog.rate_limit_exceeded.is_(True))).all()
        assert [(r.status_code, r.error_code) for r in flagged] == [(429, "rate_limited")]
        row = s.scalar(select(ApiKey).where(ApiKey.key_name == "tiny"))
        assert row.total_requests == 5
        assert row.requests_this_hour == 1
        assert row.last_request_ip == "127.0.0.1"
        # No secret anywhere in the log.
        dump = " ".join(str(r.query_params) + str(r.request_body) for r in s.scalars(select(ApiRequestLog)))
        assert "sk_" not in dump


def test_unknown_route_and_internal_errors_leak_nothing(api: Api, monkeypatch) -> None:
    key = api.a.keys["all"]
    missing = api.call("GET", "/api/v1/nope", key)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")

    def boom(*args: Any, **kw: Any) -> Any:
        raise RuntimeError("password=hunter2 at db.internal:5432")

    # Both paths of the list (the route, and on PostgreSQL the lean path of api.lean) pick it here.
    monkeypatch.setattr("sierra_sync.web.api.projects._project_list", boom)
    for query in ("", "?status=active"):
        r = api.call("GET", f"/api/v1/projects{query}", key)
        assert r.status_code == 500
        assert "hunter2" not in r.text
        assert "RuntimeError" not in r.text
        assert r.json()["error"]["code"] == "internal_error"


def test_contact_billing_address_is_the_same_in_the_list_and_alone(api: Api) -> None:
    key = api.a.keys["all"]
    with api.deps.sessions.begin() as s:
        row = s.get(Contact, api.a.ids["contact"])
        assert row is not None
        row.bill_line1, row.bill_city, row.bill_region = "12 Main St", "Bayshore", "CA"
        row.bill_postal_code, row.bill_country = "94326", "US"
    expected = {
        "line1": "12 Main St",
        "line2": None,
        "city": "Bayshore",
        "region": "CA",
        "postal_code": "94326",
        "country": "US",
    }
    listed = api.call("GET", "/api/v1/contacts", key).json()["data"]
    alone = api.call("GET", f"/api/v1/contacts/{api.a.ids['contact']}", key).json()["data"]
    assert [c["billing_address"] for c in listed] == [expected]
    assert alone == listed[0]
    assert not any(k.startswith("bill_") for k in alone)


def test_webhook_urls_must_be_public_https(api: Api) -> None:
    key = api.a.keys["all"]
    events = ["invoice.synced"]
    for url, reason in [
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254 is a private or reserved address"),
        ("https://localhost:8703/api/v1/projects", "localhost is this server itself"),
        ("https://[::ffff:10.0.0.1]/hook", "is a private or reserved address"),
        ("https://[2002:a9fe:a9fe::1]/hook", "is a private or reserved address (it holds 169.254.169.254)"),
        ("https://hooks.example.com:6379/in", "port 6379 is not allowed"),
        ("http://hooks.example.com/in", "use an https:// URL"),
        ("https://user:pw@hooks.example.com/in", "remove the user name and password"),
    ]:
        refused = api.call("POST", "/api/v1/webhooks", key, {"url": url, "events": events})
        assert refused.status_code == 400, url
        [detail] = refused.json()["error"]["details"]
        assert detail["field"] == "url" and reason in detail["message"], (url, detail)
    made = api.call(
        "POST", "/api/v1/webhooks", key, {"url": "https://hooks.example.com/in", "events": events}
    )
    assert made.status_code == 201, made.text
    sub = made.json()["data"]["id"]
    moved = api.call("PATCH", f"/api/v1/webhooks/{sub}", key, {"url": "https://10.0.0.8/in"})
    assert moved.status_code == 400
    assert (
        api.call("GET", f"/api/v1/webhooks/{sub}", key).json()["data"]["url"]
        == "https://hooks.example.com/in"
    )


def test_concurrent_creates_of_one_project_code_make_one_project(api: Api) -> None:
    """The check before the insert can race; the unique index settles it and the loser gets 409, not 500."""
    key = api.a.keys["all"]

    def create(n: int) -> int:
        body = {"name": f"Garage {n}", "code": "RACE-1"}
        return api.call("POST", "/api/v1/projects", key, body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(create, range(16)))
    assert statuses == [201] + [409] * 15
    with api.deps.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Project).where(Project.code == "RACE-1")) == 1


def test_a_secret_in_a_query_string_is_logged_redacted_whole(api: Api, sessions) -> None:
    # An API key is "sk_live_" + token_urlsafe: "-" and "_" anywhere; none of it may reach the log.
    leaked = "sk_live_Qm3v-4VdVlLhAB_8sOhc-ZzY1xk9_Pq2Rs-TuVw8xYz0aBc"
    r = api.client.get(
        "/api/v1/projects",
        params={"search": leaked, "note": f"see {leaked} here", "status": "active"},
        headers={"Authorization": f"Bearer {api.a.keys['all']}", "User-Agent": "query-secret"},
    )
    assert r.status_code == 200

    def logged() -> ApiRequestLog | None:  # the row is queued just after the answer is sent
        api.flush_log()
        with sessions() as s:
            found: ApiRequestLog | None = s.scalar(
                select(ApiRequestLog).where(ApiRequestLog.user_agent == "query-secret")
            )
            return found

    wait_for(lambda: logged() is not None)
    row = logged()
    assert row is not None
    assert row.query_params == {"search": "[REDACTED]", "note": "[REDACTED]", "status": "active"}
