"""Request bodies: the API checks the key before it reads any of a body, and the API and the webhook
receivers refuse a body past the limit while reading it (413), declared or chunked, without reading the rest.

"Before the body is read" is shown by a client that declares a body and never sends it (the answer comes
anyway), "while reading" by one that keeps sending and stops when answered, long before its 64 MiB are out
(far more than socket buffers hold)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select

from connectors.apikeys import create_key, parse_permissions
from sierra_core.db.models import Project, WebhookEvent
from sierra_sync.web import AppDeps
from tests import factories
from tests.web import raw_http
from tests.web.conftest import STRIPE_SECRET, VERIFIER, WebServer

LIMIT = 64_000
BIG = 64 * 1024 * 1024
PIECE = 256 * 1024
JSON = {"Content-Type": "application/json"}


def _pieces(total: int = BIG) -> Iterator[bytes]:
    for _ in range(total // PIECE):
        yield b" " * PIECE


@dataclass
class Server:
    url: str
    key: str
    deps: AppDeps

    def count(self, model: type) -> int:
        with self.deps.sessions() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def server(sessions, web_server: WebServer) -> Iterator[Server]:
    with sessions.begin() as s:
        company = factories.company(s)
        key = create_key(s, company.id, "limits", parse_permissions("projects:rw")).raw
    deps = AppDeps(
        sessions=sessions,
        max_body_bytes=LIMIT,
        webhook_secrets={"stripe": [STRIPE_SECRET], "quickbooks_online": [VERIFIER]},
        clock=time.time,
    )
    with web_server.serve(deps):
        yield Server(web_server.url, key, deps)


@pytest.mark.parametrize("key", [None, "sk_live_notakey"])
def test_the_api_answers_401_before_reading_the_body(server: Server, key: str | None) -> None:
    headers = {**JSON, **({"Authorization": f"Bearer {key}"} if key else {})}
    answer = raw_http.post(server.url, "/api/v1/projects", headers, length=BIG)  # the body never comes
    assert answer.status == 401, answer.body
    assert answer.json()["error"]["code"] in ("unauthorized", "key_unknown")
    assert answer.headers["www-authenticate"] == "Bearer"


def test_invalid_json_without_a_key_is_401_not_400(server: Server) -> None:
    r = httpx.post(f"{server.url}/api/v1/projects", content=b"{not json", headers=JSON)
    assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthorized")


def test_the_api_refuses_a_declared_oversized_body_without_reading_it(server: Server) -> None:
    headers = {**JSON, "Authorization": f"Bearer {server.key}"}
    answer = raw_http.post(server.url, "/api/v1/projects", headers, length=LIMIT + 1)
    assert answer.status == 413, answer.body
    assert answer.json()["error"]["code"] == "payload_too_large"
    assert str(LIMIT) in answer.json()["error"]["message"]


def test_the_api_refuses_a_chunked_body_once_it_passes_the_limit(server: Server) -> None:
    headers = {**JSON, "Authorization": f"Bearer {server.key}"}
    answer = raw_http.post(server.url, "/api/v1/projects", headers, _pieces())
    assert answer.status == 413, answer.body
    assert not answer.finished  # answered while the client was still sending
    assert answer.json()["error"]["code"] == "payload_too_large"
    assert server.count(Project) == 0


def test_a_body_of_exactly_the_limit_is_accepted(server: Server) -> None:
    start = b'{"name": "Limit barn"}'
    body = start[:-1] + b" " * (LIMIT - len(start)) + b"}"
    assert len(body) == LIMIT
    headers = {**JSON, "Authorization": f"Bearer {server.key}"}
    chunked = raw_http.post(server.url, "/api/v1/projects", headers, [body[:1000], body[1000:]])
    assert chunked.status == 201, chunked.body
    declared = raw_http.post(server.url, "/api/v1/projects", headers, [body], length=LIMIT)
    assert declared.status == 201, declared.body


@pytest.mark.parametrize(
    ("path", "header"),
    [("/webhooks/stripe", "Stripe-Signature"), ("/webhooks/quickbooks", "intuit-signature")],
)
def test_a_webhook_without_its_signature_header_is_401_before_the_body(
    server: Server, path: str, header: str
) -> None:
    answer = raw_http.post(server.url, path, JSON, length=BIG)  # the body never comes
    assert answer.status == 401, answer.body
    assert header.lower() in answer.json()["error"].lower()


@pytest.mark.parametrize(
    ("path", "header"),
    [
        ("/webhooks/stripe", {"Stripe-Signature": "t=1,v1=00"}),
        ("/webhooks/quickbooks", {"intuit-signature": "AA=="}),
    ],
)
def test_a_webhook_body_past_the_limit_is_413_while_reading(
    server: Server, path: str, header: dict[str, str]
) -> None:
    chunked = raw_http.post(server.url, path, {**JSON, **header}, _pieces())
    assert chunked.status == 413, chunked.body
    assert not chunked.finished
    declared = raw_http.post(server.url, path, {**JSON, **header}, length=LIMIT + 1)
    assert declared.status == 413, declared.body
    assert server.count(WebhookEvent) == 0


def test_the_key_is_checked_once_per_request(server: Server) -> None:
    """Checking the key before the body costs no second look-up: one statement on api_keys per request."""
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "api_keys" in statement:
            statements.append(statement.split()[0].upper())

    engine = server.deps.counters
    event.listen(engine, "before_cursor_execute", seen)
    try:
        headers = {"Authorization": f"Bearer {server.key}"}
        created = httpx.post(f"{server.url}/api/v1/projects", json={"name": "Once"}, headers=headers)
        assert created.status_code == 201, created.text
        assert httpx.get(f"{server.url}/api/v1/projects", headers=headers).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert statements == ["UPDATE", "UPDATE"]
