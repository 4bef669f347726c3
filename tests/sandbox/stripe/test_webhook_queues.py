"""One delivery queue per endpoint: a hanging or dead receiver never delays a healthy one; reset drops all."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.common.server import LocalServer
from sandbox.stripe import create_app
from tests.sandbox.stripe.conftest import API_KEY, RunningSandbox, sandbox_options


@pytest.fixture
def hanging_url() -> Iterator[str]:
    """A receiver that takes every request and never answers."""

    async def hook(request: Request) -> Response:
        await asyncio.sleep(4)
        return Response()

    with LocalServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as server:
        yield f"{server.url}/hook"


def _dead_url() -> str:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/hook"


@pytest.fixture
def slow_sandbox() -> Iterator[RunningSandbox]:
    options = sandbox_options(webhook_timeout_seconds=1.5, webhook_retry_base_seconds=5.0)
    app = create_app(options)
    with LocalServer(app) as server:
        yield RunningSandbox(server.url, app.state.sandbox)


def test_a_hanging_endpoint_does_not_delay_a_healthy_one(
    slow_sandbox: RunningSandbox, hanging_url: str, receiver_url: tuple[str, list[float]]
) -> None:
    healthy, arrivals = receiver_url
    slow_sandbox.admin("POST", "webhook_endpoints", {"url": hanging_url})
    slow_sandbox.admin("POST", "webhook_endpoints", {"url": _dead_url()})
    slow_sandbox.admin("POST", "webhook_endpoints", {"url": healthy})
    client = stripe.StripeClient(API_KEY, base_addresses={"api": slow_sandbox.url})
    started = time.monotonic()
    for i in range(5):
        client.v1.customers.create(params={"name": f"c{i}"})
    deadline = started + 1.0  # less than one attempt's timeout at the hanging endpoint
    while len(arrivals) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(arrivals) == 5, "the healthy endpoint waited behind the hanging one"
    time.sleep(1.7)  # the hanging endpoint's first attempt times out
    attempts = [d for d in slow_sandbox.admin("GET", "webhooks/deliveries")["data"] if d["attempts"]]
    errors = {a["error"] for d in attempts for a in d["attempts"] if a["error"]}
    assert "Timeout" in errors and "ConnectError" in errors
    slow_sandbox.admin("POST", "reset")
    assert slow_sandbox.admin("GET", "stats")["webhooks"] == {
        "pending": 0, "delivered": 0, "failed": 0, "attempts": 0
    }  # fmt: skip


@pytest.fixture
def receiver_url() -> Iterator[tuple[str, list[float]]]:
    arrivals: list[float] = []

    async def hook(request: Request) -> Response:
        await request.body()
        arrivals.append(time.monotonic())
        return Response()

    with LocalServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as server:
        yield f"{server.url}/hook", arrivals
