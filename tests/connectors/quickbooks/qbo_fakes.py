"""Test doubles for the QBO client tests: a real TokenSource, fixture loading, recorded sleeps."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx

from connectors.quickbooks.client import QuickBooksClient, RetryPolicy
from tests import fixtures

FIXTURES = fixtures.QUICKBOOKS
BASE = "https://sandbox-quickbooks.api.intuit.com"
REALM = "9130350000000001"


def fixture(name: str) -> dict[str, Any]:
    """One shared fixture file (request/response/note)."""
    return json.loads((FIXTURES / name).read_text())  # type: ignore[no-any-return]


def fixture_bytes(name: str) -> bytes:
    """The fixture's response body as bytes, with number text kept (`119.60` stays `119.60`)."""
    text = (FIXTURES / name).read_text()
    # Re-serialise only the response body, but with Decimal so the number text survives.
    from decimal import Decimal

    data = json.loads(text, parse_float=Decimal)
    return _dump(data["response"]["body"]).encode()


def _dump(obj: Any) -> str:
    from connectors.quickbooks.codec import dumps

    return dumps(obj).decode()


class FakeTokens:
    """A TokenSource with a counter: `refresh_after_401` rotates to the next token unless already rotated."""

    def __init__(self, token: str = "tok-0") -> None:
        self.token = token
        self.generation = 0
        self.refreshes = 0
        self.lock = threading.Lock()

    def access_token(self) -> str:
        return self.token

    def refresh_after_401(self, rejected_token: str) -> str:
        with self.lock:
            if rejected_token != self.token:
                return self.token  # someone else already refreshed
            self.refreshes += 1
            self.generation += 1
            self.token = f"tok-{self.generation}"
            return self.token


class Sleeps:
    """An injectable sleep that records instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_client(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    tokens: FakeTokens | None = None,
    sleeps: Sleeps | None = None,
    max_attempts: int = 4,
    **kwargs: Any,
) -> QuickBooksClient:
    """A client over `httpx.MockTransport(handler)` whose retries sleep into `sleeps` without jitter."""
    return QuickBooksClient(
        BASE,
        REALM,
        tokens or FakeTokens(),
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(max_attempts=max_attempts, jitter=0.0, sleep=sleeps or Sleeps()),
        **kwargs,
    )


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """A response whose body is written with exact number text."""
    return httpx.Response(
        status, content=_dump(body).encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )
