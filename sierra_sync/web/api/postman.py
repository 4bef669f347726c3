"""The Postman collection (v2.1) of the public API, generated from its OpenAPI document.

    python -m sierra_sync.web.api.postman           # (re)writes COLLECTION_PATH (under docs/postman/)
    python -m sierra_sync.web.api.postman --check   # exit 1 when the checked-in file is not the generated one

Every /api/v1 operation of the document is one request, in the order of `PLAN` (which makes the rows the
later requests use: a run needs only `baseUrl` and `apiKey`, and data of its own company to read: a contact,
an invoice, a webhook subscription with a delivery, as `sierra_sync.web.api.sample_server` seeds). Each
request's test script checks the status the document gives for success, the shape its schema gives (the
required fields of `data`, `pagination`), and a value (the row asked for, a filter applied, a field written).
An operation of the document missing from PLAN (or one of PLAN missing from the document) is an error: a
new endpoint cannot ship without its request. A last folder checks the error answers (401, 400 naming the
field, 404, 409).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from sierra_sync.web.api.errors import API_PREFIX

__all__ = ["COLLECTION_PATH", "PLAN", "Step", "build_collection", "main", "openapi_document"]

COLLECTION_PATH = Path("docs") / "postman" / "sierra-sync.postman_collection.json"
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
NIL = "00000000-0000-0000-0000-000000000000"
DESCRIPTION = re.sub(
    r"\s+",
    " ",
    """Generated from the OpenAPI document by `python -m sierra_sync.web.api.postman`; do not edit.
    Set `baseUrl` (the API root, e.g. http://127.0.0.1:8703/api/v1) and `apiKey` (a key with every
    permission). Run the requests in order: the first ones make the rows the later ones use. Reads need a
    contact, an invoice and a webhook subscription with a delivery in the key's company
    (`python -m sierra_sync.web.api.sample_server` serves such a company).""",
)


@dataclass(frozen=True)
class Step:
    """One request: the operation (`method`, `path` as in the OpenAPI document), its query and JSON body,
    `save` (collection variable -> expression on `body`), `checks` (JavaScript expectations on `body`),
    and, for the error folder, the `status` expected instead of the documented success."""

    method: str
    path: str
    name: str = ""
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    save: dict[str, str] = field(default_factory=dict)
    checks: tuple[str, ...] = ()
    status: int | None = None
    no_auth: bool = False
    fixed: dict[str, str] = field(default_factory=dict)  # path parameters given here, not by a variable


def _eq(expr: str, value: str) -> str:
    return f"pm.expect({expr}).to.eql({value});"


def _var(name: str) -> str:
    return f'pm.collectionVariables.get("{name}")'


BRIEF_PROJECT = {
    "name": "Postman duplex",
    "description": "Two units on a sloped lot",
    "client_id": "{{contact_id}}",
    "project_type": "residential",
    "estimated_budget": 480000,
    "start_date": "2026-12-01",
    "target_completion": "2027-06-30",
    "status": "planning",
    "code": "PM-{{$guid}}",
    "site_address": "12 Hill Rd",
}

PLAN: tuple[Step, ...] = (
    Step(
        "GET",
        "/contacts",
        save={"contact_id": "body.data[0].id"},
        checks=("pm.expect(body.data).to.not.be.empty;",),
    ),
    Step("GET", "/contacts/{contact_id}", checks=(_eq("body.data.id", _var("contact_id")),)),
    Step(
        "POST",
        "/projects",
        body=BRIEF_PROJECT,
        save={"project_id": "body.data.id", "project_code": "body.data.code"},
        checks=(
            _eq("body.data.name", '"Postman duplex"'),
            _eq("body.data.estimated_budget", '"480000.00"'),
            _eq("body.data.client_id", _var("contact_id")),
            _eq("body.data.target_completion", '"2027-06-30"'),
        ),
    ),
    Step(
        "GET",
        "/projects",
        query={"status": "planning", "limit": "100"},
        checks=(
            "body.data.forEach((p) => pm.expect(p.status).to.eql('planning'));",
            f"pm.expect(body.data.map((p) => p.id)).to.include({_var('project_id')});",
        ),
    ),
    Step("GET", "/projects/{project_id}", checks=(_eq("body.data.id", _var("project_id")),)),
    Step(
        "PATCH",
        "/projects/{project_id}",
        body={"status": "active"},
        checks=(_eq("body.data.status", '"active"'),),
    ),
    Step(
        "POST",
        "/projects/{project_id}/tasks",
        body={"title": "Frame walls", "assignee": "Dana"},
        save={"task_id": "body.data.id"},
        checks=(_eq("body.data.project_id", _var("project_id")), _eq("body.data.status", '"todo"')),
    ),
    Step("GET", "/projects/{project_id}/tasks", checks=(_eq("body.data[0].id", _var("task_id")),)),
    Step("GET", "/projects/{project_id}/tasks/{task_id}", checks=(_eq("body.data.title", '"Frame walls"'),)),
    Step(
        "PATCH",
        "/projects/{project_id}/tasks/{task_id}",
        body={"status": "done"},
        checks=("pm.expect(body.data.completed_at).to.be.a('string');",),
    ),
    Step(
        "POST",
        "/tasks",
        body={"project_id": "{{project_id}}", "title": "Inspect footings", "priority": "high"},
        checks=(_eq("body.data.priority", '"high"'), _eq("body.data.project_id", _var("project_id"))),
    ),
    Step(
        "GET",
        "/tasks",
        query={"project_id": "{{project_id}}"},
        checks=(
            _eq("body.pagination.total", "2"),
            f"body.data.forEach((t) => pm.expect(t.project_id).to.eql({_var('project_id')}));",
        ),
    ),
    Step(
        "GET",
        "/invoices",
        save={"invoice_id": "body.data[0].id"},
        checks=("pm.expect(body.data).to.not.be.empty;",),
    ),
    Step(
        "GET",
        "/invoices/{invoice_id}",
        checks=(_eq("body.data.id", _var("invoice_id")), "pm.expect(body.data.lines).to.not.be.empty;"),
    ),
    Step(
        "GET",
        "/sync-logs",
        query={"status": "failed"},
        checks=("body.data.forEach((l) => pm.expect(l.status).to.eql('failed'));",),
    ),
    Step("GET", "/integrations", checks=(_eq("body.pagination.total", "body.data.length"),)),
    Step(
        "GET",
        "/webhooks",
        save={"subscription_id": "body.data[0].id"},
        checks=("pm.expect(body.data).to.not.be.empty;",),
    ),
    Step(
        "GET",
        "/webhooks/{subscription_id}/deliveries",
        save={"delivery_id": "body.data[0].id"},
        checks=(_eq("body.data[0].subscription_id", _var("subscription_id")),),
    ),
    Step(
        "GET",
        "/webhook-deliveries/{delivery_id}",
        checks=(
            _eq("body.data.id", _var("delivery_id")),
            "pm.expect(body.data.attempt_log).to.be.an('array');",
        ),
    ),
    Step(
        "POST",
        "/webhook-deliveries/{delivery_id}/replay",
        checks=(_eq("body.data.replay_of_id", _var("delivery_id")), _eq("body.data.status", '"pending"')),
    ),
    Step(
        "POST",
        "/webhooks",
        body={"url": "https://hooks.example.com/sierra", "events": ["invoice.synced"]},
        save={"subscription_id": "body.data.id"},
        checks=("pm.expect(body.data.secret).to.match(/^whsec_/);",),
    ),
    Step(
        "GET",
        "/webhooks/{subscription_id}",
        checks=(_eq("body.data.url", '"https://hooks.example.com/sierra"'),),
    ),
    Step(
        "PATCH",
        "/webhooks/{subscription_id}",
        body={"events": ["invoice.synced", "payment.received"]},
        checks=(_eq("body.data.events", '["invoice.synced", "payment.received"]'),),
    ),
    Step(
        "POST",
        "/webhooks/{subscription_id}/rotate-secret",
        body={"previous_secret_valid_for_s": 0},
        checks=("pm.expect(body.data.secret).to.match(/^whsec_/);",),
    ),
    Step("DELETE", "/webhooks/{subscription_id}"),
)

ERROR_CHECKS: tuple[Step, ...] = (
    Step(
        "GET",
        "/projects",
        name="401: no API key",
        no_auth=True,
        status=401,
        checks=(_eq("body.error.code", '"unauthorized"'),),
    ),
    Step(
        "POST",
        "/projects",
        name="400: another company's contact (the field is named)",
        body={"name": "Nobody's", "client_id": NIL},
        status=400,
        checks=(
            _eq("body.error.code", '"validation_error"'),
            _eq("body.error.details[0].field", '"client_id"'),
        ),
    ),
    Step(
        "GET",
        "/projects/{project_id}",
        name="404: no such project in your company",
        fixed={"project_id": NIL},
        status=404,
        checks=(_eq("body.error.code", '"not_found"'),),
    ),
    Step(
        "POST",
        "/projects",
        name="409: a project code already used",
        body={"name": "Duplicate", "code": "{{project_code}}"},
        status=409,
        checks=(_eq("body.error.code", '"conflict"'),),
    ),
)


def openapi_document() -> dict[str, Any]:
    """The app's OpenAPI document (no database is touched: building it reads no row)."""
    from sierra_sync.web import AppDeps, create_app

    return create_app(AppDeps(sessions=sessionmaker(create_engine("sqlite://")))).openapi()


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _success(doc: dict[str, Any], op: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
    code = min(int(c) for c in op["responses"] if c.startswith("2"))
    content = op["responses"][str(code)].get("content", {}).get("application/json")
    return code, _resolve(doc, content["schema"]) if content and content.get("schema") else None


def _shape_checks(doc: dict[str, Any], schema: dict[str, Any] | None) -> list[str]:
    if schema is None or "data" not in schema.get("properties", {}):
        return []
    data = schema["properties"]["data"]
    checks = ["pm.expect(body).to.have.property('data');"]
    if data.get("type") == "array":
        keys = _resolve(doc, data["items"]).get("required", [])
        checks.append("pm.expect(body.data).to.be.an('array');")
        checks.append(f"body.data.forEach((row) => pm.expect(row).to.include.all.keys({json.dumps(keys)}));")
    else:
        keys = _resolve(doc, data).get("required", [])
        checks.append(f"pm.expect(body.data).to.include.all.keys({json.dumps(keys)});")
    if "pagination" in schema["properties"]:
        page = _resolve(doc, schema["properties"]["pagination"]).get("required", [])
        checks.append(f"pm.expect(body.pagination).to.include.all.keys({json.dumps(page)});")
    return checks


def _script(status: int, shape: list[str], step: Step) -> list[str]:
    lines = [f'pm.test("status {status}", () => pm.response.to.have.status({status}));']
    if status == 204:
        return lines
    lines.append("const body = pm.response.json();")
    if shape:
        lines += ['pm.test("shape", () => {', *(f"  {c}" for c in shape), "});"]
    if step.checks:
        lines += ['pm.test("value", () => {', *(f"  {c}" for c in step.checks), "});"]
    for name, expr in step.save.items():
        lines.append(f'pm.collectionVariables.set("{name}", {expr});')
    return lines


def _params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def _url(step: Step) -> dict[str, Any]:
    path = step.path.format_map({name: "{{" + name + "}}" for name in _params(step.path)} | step.fixed)
    query = [{"key": k, "value": v} for k, v in step.query.items()]
    raw = "{{baseUrl}}" + path + ("?" + "&".join(f"{k}={v}" for k, v in step.query.items()) if query else "")
    url: dict[str, Any] = {"raw": raw, "host": ["{{baseUrl}}"], "path": path.strip("/").split("/")}
    if query:
        url["query"] = query
    return url


def _item(doc: dict[str, Any], step: Step) -> dict[str, Any]:
    op = doc["paths"][API_PREFIX + step.path][step.method.lower()]
    code, schema = _success(doc, op)
    status = step.status or code
    shape = _shape_checks(doc, schema) if step.status is None else []
    headers: list[dict[str, str]] = []
    request: dict[str, Any] = {"method": step.method, "header": headers, "url": _url(step)}
    if step.no_auth:
        request["auth"] = {"type": "noauth"}
    if step.body is not None:
        headers.append({"key": "Content-Type", "value": "application/json"})
        request["body"] = {
            "mode": "raw",
            "raw": json.dumps(step.body, indent=2),
            "options": {"raw": {"language": "json"}},
        }
    if step.method == "POST" and step.status is None:
        headers.append({"key": "Idempotency-Key", "value": "{{$guid}}"})
    description = op.get("summary", "")
    return {
        "name": step.name or f"{step.method} {step.path}: {description}",
        "event": [
            {"listen": "test", "script": {"type": "text/javascript", "exec": _script(status, shape, step)}}
        ],
        "request": {**request, "description": op.get("description") or description},
    }


def _operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path.removeprefix(API_PREFIX))
        for path, ops in doc["paths"].items()
        if path.startswith(API_PREFIX + "/")
        for method in ops
    }


def build_collection(doc: dict[str, Any]) -> dict[str, Any]:
    """The collection for `doc`; ValueError when PLAN and the document's operations differ."""
    planned = [(s.method, s.path) for s in PLAN]
    missing, extra = _operations(doc) - set(planned), set(planned) - _operations(doc)
    if missing or extra or len(planned) != len(set(planned)):
        raise ValueError(
            f"the Postman plan does not match the OpenAPI document: not planned {sorted(missing)}, "
            f"planned but not in the document {sorted(extra)}; update PLAN in {__name__}"
        )
    variables = ["contact_id", "project_id", "project_code", "task_id", "invoice_id", "subscription_id"]
    return {
        "info": {
            "name": f"{doc['info']['title']} public API v1",
            "description": DESCRIPTION,
            "schema": SCHEMA,
        },
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{apiKey}}", "type": "string"}]},
        "variable": [
            {"key": "baseUrl", "value": "http://127.0.0.1:8703/api/v1"},
            {"key": "apiKey", "value": ""},
            *({"key": name, "value": ""} for name in [*variables, "delivery_id"]),
        ],
        "item": [
            {"name": "Operations", "item": [_item(doc, step) for step in PLAN]},
            {"name": "Errors", "item": [_item(doc, step) for step in ERROR_CHECKS]},
        ],
    }


def render(collection: dict[str, Any]) -> str:
    return json.dumps(collection, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=COLLECTION_PATH, help=f"default: {COLLECTION_PATH}")
    parser.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    args = parser.parse_args(argv)
    text = render(build_collection(openapi_document()))
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is not the generated collection: run python -m {__name__}", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
