"""One Xero sandbox per test on a free port; its clock runs in real time (the SDK checks token expiry
against the wall clock) and tests move it forward by hand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sandbox.common.server import LocalServer
from sandbox.kit.clock import Clock
from sandbox.kit.spec import KitOptions
from sandbox.kit.throttle import Limits
from sandbox.xero import XeroSandbox, XeroSandboxOptions

API = "/api.xro/2.0"


@dataclass
class Xero:
    """A running sandbox: its URL and the sandbox object."""

    url: str
    sandbox: XeroSandbox

    @property
    def clock(self) -> Clock:
        return self.sandbox.kit.clock

    def connect(self) -> dict[str, Any]:
        """A new organisation and a token response for it (the admin API), with `tenantId`."""
        response = httpx.post(f"{self.url}/__sandbox/tokens", json={}, timeout=10)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def api(self, tokens: dict[str, Any]) -> httpx.Client:
        """An httpx client for the Accounting API of the tokens' organisation."""
        return httpx.Client(
            base_url=self.url + API,
            headers={
                "Authorization": f"Bearer {tokens['access_token']}",
                "xero-tenant-id": tokens["tenantId"],
            },
            timeout=10,
        )


def start(**changes: Any) -> tuple[LocalServer, Xero]:
    kit = KitOptions(clock=Clock(), seed=3, limits=Limits(requests_per_minute=1000, concurrent_requests=5))
    sandbox = XeroSandbox(XeroSandboxOptions(kit=kit, **changes))
    server = LocalServer(sandbox.app).start()
    return server, Xero(server.url, sandbox)


@pytest.fixture
def xero() -> Iterator[Xero]:
    server, running = start()
    try:
        yield running
    finally:
        server.stop()
