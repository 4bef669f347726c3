"""The product brief's API contract on both dialects: projects take createProjectSchema field for field,
tasks have top-level routes filterable by project, contacts can be searched, and the OpenAPI document names
the checklist's status codes on every route."""

from __future__ import annotations

from typing import Any

from sierra_sync.web.api import API_PREFIX
from tests.web.api_helpers import Api

BRIEF = {
    "name": "Hillside duplex",
    "description": "Two units on a sloped lot",
    "project_type": "residential",
    "estimated_budget": 480000.5,
    "start_date": "2026-12-01",
    "target_completion": "2027-06-30",
    "status": "planning",
}


def test_projects_take_and_return_the_brief_create_project_schema(api: Api) -> None:
    key = api.a.keys["all"]
    client = str(api.a.ids["contact"])
    made = api.call("POST", "/api/v1/projects", key, {**BRIEF, "client_id": client, "code": "HD-24"})
    assert made.status_code == 201, made.text
    data = made.json()["data"]
    expected = {**BRIEF, "estimated_budget": "480000.50", "client_id": client, "code": "HD-24"}
    assert {k: data[k] for k in expected} == expected
    assert data["site_address"] is None
    assert api.call("GET", f"/api/v1/projects/{data['id']}", key).json()["data"] == data
    listed = api.call("GET", "/api/v1/projects?status=planning", key).json()["data"]
    assert listed == [data]

    changed = api.call(
        "PATCH", f"/api/v1/projects/{data['id']}", key, {"status": "lead", "target_completion": None}
    ).json()["data"]
    assert (changed["status"], changed["target_completion"], changed["project_type"]) == (
        "lead",
        None,
        "residential",
    )
    for status in ("lead", "planning", "active", "on_hold", "completed", "cancelled"):
        answer = api.call("POST", "/api/v1/projects", key, {"name": f"S {status}", "status": status})
        assert answer.status_code == 201, status


def test_brief_fields_are_checked_and_each_error_names_its_field(api: Api) -> None:
    key = api.a.keys["all"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "P", "estimated_budget": 0}, "estimated_budget"),
        ({"name": "P", "estimated_budget": -5}, "estimated_budget"),
        ({"name": "P", "status": "bidding"}, "status"),
        ({"name": "P", "client_id": "not-a-uuid"}, "client_id"),
        ({"name": "P", "client_id": str(api.b.ids["contact"])}, "client_id"),  # another company's contact
        ({"name": "P", "start_date": "2027-01-02", "target_completion": "2027-01-01"}, "target_completion"),
        ({"name": "P", "customer_id": str(api.a.ids["contact"])}, "customer_id"),  # old names are unknown
    ]
    for body, field in cases:
        answer = api.call("POST", "/api/v1/projects", key, body)
        assert answer.status_code == 400, (body, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "validation_error"
        assert field in {d["field"] for d in error["details"]}, (body, error)
    assert api.call("POST", "/api/v1/projects", key, {"name": "x" * 255}).status_code == 201


def test_top_level_tasks_filter_by_project_and_create_in_a_named_project(api: Api) -> None:
    key = api.a.keys["all"]
    project = str(api.a.ids["project"])
    other = api.call("POST", "/api/v1/projects", key, {"name": "Other"}).json()["data"]["id"]
    made = api.call(
        "POST", "/api/v1/tasks", key, {"project_id": other, "title": "Frame walls", "priority": "high"}
    )
    assert made.status_code == 201, made.text
    task = made.json()["data"]
    assert (task["project_id"], task["title"], task["priority"]) == (other, "Frame walls", "high")

    everything = api.call("GET", "/api/v1/tasks", key).json()
    assert everything["pagination"]["total"] == 2
    assert everything["data"][0]["id"] == task["id"]  # newest first
    only = api.call("GET", f"/api/v1/tasks?project_id={project}", key).json()["data"]
    assert [t["title"] for t in only] == ["Pour footings"]
    assert api.call("GET", f"/api/v1/tasks?project_id={api.b.ids['project']}", key).json()["data"] == []
    assert api.call("GET", "/api/v1/tasks?status=done", key).json()["data"] == []

    foreign = api.call("POST", "/api/v1/tasks", key, {"project_id": str(api.b.ids["project"]), "title": "X"})
    assert foreign.status_code == 400
    assert foreign.json()["error"]["details"][0]["field"] == "project_id"
    assert api.call("POST", "/api/v1/tasks", key, {"title": "No project"}).status_code == 400
    nested = api.call("GET", f"/api/v1/projects/{other}/tasks", key).json()["data"]
    assert [t["id"] for t in nested] == [task["id"]]


def test_contacts_are_found_by_email_or_name(api: Api) -> None:
    key = api.a.keys["all"]
    contact = api.call("GET", f"/api/v1/contacts/{api.a.ids['contact']}", key).json()["data"]
    assert contact["email"]
    found = api.client.get(
        "/api/v1/contacts",
        params={"email": contact["email"].upper()},
        headers={"Authorization": f"Bearer {key}"},
    ).json()["data"]
    assert [c["id"] for c in found] == [contact["id"]]
    part = contact["display_name"][1:4].lower()
    named = api.client.get(
        "/api/v1/contacts", params={"name": part}, headers={"Authorization": f"Bearer {key}"}
    ).json()["data"]
    assert [c["id"] for c in named] == [contact["id"]]
    nobody = api.client.get(
        "/api/v1/contacts", params={"name": "%"}, headers={"Authorization": f"Bearer {key}"}
    ).json()["data"]
    assert nobody == []  # a wildcard is a plain character


def test_the_openapi_document_names_the_checklist_codes_on_every_route(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    paths = {p: ops for p, ops in doc["paths"].items() if p.startswith(API_PREFIX)}
    assert {"/api/v1/projects", "/api/v1/tasks", "/api/v1/contacts"} <= set(paths)
    assert {"get", "post"} <= set(paths["/api/v1/tasks"])
    for path, ops in paths.items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert {"400", "401", "403", "404", "429", "500"} <= codes, (method, path, codes)
            assert "422" not in codes
            if method == "post":
                assert "409" in codes, (method, path)
            for code in codes - {"200", "201", "202", "204"}:
                schema = op["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, code)
    created = doc["components"]["schemas"]["ProjectCreate"]["properties"]
    assert set(BRIEF) | {"client_id"} <= set(created)
    assert created["status"]["enum"] == ["lead", "planning", "active", "on_hold", "completed", "cancelled"]


def test_a_nul_in_a_contact_filter_is_a_400_naming_the_parameter(api: Api) -> None:
    # PostgreSQL cannot compare text holding NUL: before the pattern, this was a 500 on that dialect.
    key = api.a.keys["all"]
    for param in ("email", "name"):
        resp = api.client.get(
            "/api/v1/contacts", params={param: "a\x00b"}, headers={"Authorization": f"Bearer {key}"}
        )
        assert resp.status_code == 400, resp.text
        assert param in resp.text
