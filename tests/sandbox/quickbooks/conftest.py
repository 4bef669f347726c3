"""One QBO sandbox per test module, on a free port, with a frozen clock that tests move by hand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from sandbox.common.server import LocalServer
from sandbox.quickbooks import Clock, QboSandbox, SandboxOptions, create_app

START = datetime(2025, 6, 10, 13, 19, 36, tzinfo=UTC)
BASIC = ("local-client", "local-secret")


@dataclass
class Sandbox:
    """A running sandbox: its URL, the app object and its clock."""

    url: str
    app: QboSandbox
    clock: Clock

    def admin(self, method: str, path: str, json: Any = None, expect: int | None = None) -> Any:
        response = httpx.request(method, f"{self.url}/__sandbox/{path}", json=json, timeout=10)
        if expect is not None:
            assert response.status_code == expect, response.text
        else:
            assert response.status_code < 300, response.text
        return response.json()

    def realm(self, **body: Any) -> tuple[str, dict[str, Any]]:
        """A new realm with a token pair: (realm_id, token response)."""
        out = self.admin("POST", "realms", {"tokens": True, **body})
        return str(out["realm_id"]), out["tokens"]

    def seed(self, realm_id: str, entity: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insert entities with explicit ids through the admin API."""
        return list(self.admin("POST", f"realms/{realm_id}/entities/{entity}", bodies)["items"])

    def api(self, realm_id: str, token: str) -> httpx.Client:
        """An httpx client for the accounting API of one realm (use it as a context manager)."""
        return httpx.Client(
            base_url=f"{self.url}/v3/company/{realm_id}",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=10,
        )


def make_sandbox(**options: Any) -> tuple[LocalServer, Sandbox]:
    """Start a sandbox (the caller stops the server)."""
    clock = Clock(start=START, frozen=True)
    app = create_app(SandboxOptions(clock=clock, seed=7, **options))
    server = LocalServer(app).start()
    return server, Sandbox(server.url, app, clock)


@pytest.fixture(scope="module")
def qbo() -> Iterator[Sandbox]:
    """A sandbox shared by the tests of a module (each test makes its own realms)."""
    server, sandbox = make_sandbox(webhook_retry_delay_s=0.01)
    try:
        yield sandbox
    finally:
        server.stop()


@pytest.fixture
def realm(qbo: Sandbox) -> Iterator[tuple[str, httpx.Client]]:
    """A fresh sample company and an API client for it."""
    realm_id, tokens = qbo.realm()
    with qbo.api(realm_id, tokens["access_token"]) as client:
        yield realm_id, client


class Receiver:
    """An ASGI app that answers 200 to every webhook and keeps the bodies."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})
