"""BearerAuth: bearer header, one refresh and one re-send on a 401, never more."""

from __future__ import annotations

import threading

import httpx
import pytest

from connectors.kit.auth import BearerAuth, TokenSource
from tests.connectors.quickbooks.qbo_fakes import FakeTokens


def test_fake_is_a_token_source():
    assert isinstance(FakeTokens(), TokenSource)


def test_generator_stepped_by_hand():
    tokens = FakeTokens()
    flow = BearerAuth(tokens).sync_auth_flow(httpx.Request("GET", "https://q.example/v3/x"))
    request = next(flow)
    assert request.headers["Authorization"] == "Bearer tok-0"
    again = flow.send(httpx.Response(401, request=request))
    assert again.headers["Authorization"] == "Bearer tok-1"
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(401, request=again))  # a second 401 is returned, not retried
    assert tokens.refreshes == 1


def test_success_needs_no_refresh():
    tokens = FakeTokens()
    flow = BearerAuth(tokens).sync_auth_flow(httpx.Request("GET", "https://q.example/"))
    request = next(flow)
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(200, request=request))
    assert tokens.refreshes == 0


def test_401_then_success_over_a_client():
    tokens = FakeTokens()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200 if request.headers["Authorization"] == "Bearer tok-1" else 401)

    with httpx.Client(auth=BearerAuth(tokens), transport=httpx.MockTransport(handler)) as client:
        assert client.get("https://q.example/").status_code == 200
    assert seen == ["Bearer tok-0", "Bearer tok-1"]
    assert tokens.refreshes == 1


def test_threads_sharing_a_rejected_token_refresh_once():
    tokens = FakeTokens()
    barrier = threading.Barrier(6)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer tok-0":
            return httpx.Response(401)
        return httpx.Response(200)

    auth = BearerAuth(tokens)
    results: list[int] = []

    def worker() -> None:
        with httpx.Client(auth=auth, transport=httpx.MockTransport(handler)) as client:
            barrier.wait()
            results.append(client.get("https://q.example/").status_code)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 6
    assert tokens.refreshes == 1


def test_async_use_is_refused():
    import asyncio

    async def go() -> None:
        async with httpx.AsyncClient(
            auth=BearerAuth(FakeTokens()), transport=httpx.MockTransport(lambda r: httpx.Response(200))
        ) as client:
            await client.get("https://q.example/")

    with pytest.raises(TypeError, match="blocking"):
        asyncio.run(go())
