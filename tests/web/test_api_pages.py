"""List pages written straight from the database's types (orjson) are the very text pydantic writes for
the same page (Page[out]): every field filled, a budget with cents, dates, microseconds, a UTC timestamp."""

from __future__ import annotations

from sierra_sync.web.api.schemas import Page, ProjectOut
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
