"""One Stripe sandbox server per test module, reset before each test; an SDK client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import stripe

from sandbox.common.server import LocalServer
from sandbox.stripe import SandboxState, StripeSandboxOptions, create_app

API_KEY = "sk_test_sierra_sandbox_0001"


@dataclass
class RunningSandbox:
    """A sandbox served over real sockets, with its in-process state for white-box checks."""

    url: str
    state: SandboxState

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        response = httpx.request(method, f"{self.url}/__sandbox/{path}", json=json, timeout=10)
        response.raise_for_status()
        return response.json()

    def api(self, method: str, path: str, *, key: str = API_KEY, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kwargs)


def sandbox_options(**changes: Any) -> StripeSandboxOptions:
    """Options tuned for tests: fast webhook retries, reproducible ids."""
    values: dict[str, Any] = {
        "seed": 6,
        "webhook_retry_base_seconds": 0.05,
        "webhook_retry_max_seconds": 0.2,
        "webhook_max_attempts": 4,
        "webhook_timeout_seconds": 2.0,
    }
    values.update(changes)
    return StripeSandboxOptions(**values)


@pytest.fixture(scope="module")
def running_sandbox() -> Iterator[RunningSandbox]:
    app = create_app(sandbox_options())
    with LocalServer(app) as server:
        yield RunningSandbox(server.url, app.state.sandbox)


@pytest.fixture
def sandbox(running_sandbox: RunningSandbox) -> RunningSandbox:
    running_sandbox.admin("POST", "reset")
    return running_sandbox


@pytest.fixture
def client(sandbox: RunningSandbox) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": sandbox.url}, max_network_retries=2)
