"""The kit's `WebhookSender` with several endpoints: each its own secret and queue, a deadline per attempt,
retries doubling up to a cap, `deliver_now` for a sandbox that does not deliver by itself, `clear`."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.kit.webhooks import SignatureError, verify
from sandbox.common.server import LocalServer
from sandbox.kit.webhooks import Delivery, Endpoint, Signing, WebhookSender
from tests.connectors.kit.providers import STRIPE_LIKE

SIGNING = Signing(
    scheme="hmac_timestamped",
    header="Stripe-Signature",
    signature_item="v1",
    signed_format="{timestamp}.{body}",
)
Received = list[tuple[str, bytes, dict[str, str]]]


@pytest.fixture
def receivers() -> Iterator[tuple[str, Received]]:
    """`/ok/{name}` answers 200, `/hang/{name}` never in time, `/fail/{name}` 500; all are recorded."""
    received: Received = []

    async def hook(request: Request) -> Response:
        received.append((request.url.path, await request.body(), dict(request.headers)))
        if request.url.path.startswith("/hang"):
            await asyncio.sleep(1.0)
        return Response(status_code=500 if request.url.path.startswith("/fail") else 200)

    app = Starlette(routes=[Route("/{kind}/{name}", hook, methods=["POST"])])
    with LocalServer(app) as server:
        yield server.url, received


def _sender(delivered: list[Delivery], **changes: float) -> WebhookSender:
    options = {"attempts": 3, "retry_delay_s": 0.05, "retry_max_s": 0.08, "timeout_s": 0.5, **changes}
    return WebhookSender(
        SIGNING,
        "",
        attempts=int(options["attempts"]),
        retry_delay_s=options["retry_delay_s"],
        backoff="doubling",
        retry_max_s=options["retry_max_s"],
        timeout_s=options["timeout_s"],
        on_delivered=delivered.append,
    )


async def _until(predicate: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_each_endpoint_has_its_secret_and_a_hanging_one_delays_only_itself(
    receivers: tuple[str, Received],
) -> None:
    url, received = receivers
    delivered: list[Delivery] = []
    sender = _sender(delivered, attempts=2)
    sender.add_endpoint(Endpoint("a", f"{url}/ok/a", "secret-a"))
    sender.add_endpoint(Endpoint("b", f"{url}/ok/b", "secret-b"))
    sender.add_endpoint(Endpoint("h", f"{url}/hang/h", "secret-h"))

    async def scenario() -> None:
        runner = asyncio.create_task(sender.run())
        started = time.monotonic()
        assert (
            sender.enqueue(["h", "a", "b", "nobody"], b'{"id":"evt_1"}', "evt_1", {"event_id": "evt_1"}) == 3
        )
        await _until(lambda: len(delivered) == 2)
        assert time.monotonic() - started < 0.5  # not behind the hanging endpoint's attempt
        await _until(lambda: sender.counts()["failed"] == 1)  # two attempts, each cut at its deadline
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner

    asyncio.run(scenario())
    now = time.time()
    for path, body, headers in received:
        name = path.rsplit("/", 1)[1]
        verify(STRIPE_LIKE, body, headers, [f"secret-{name}"], now=now)
        with pytest.raises(SignatureError):
            verify(STRIPE_LIKE, body, headers, ["secret-a" if name != "a" else "secret-b"], now=now)
    (hung,) = [d for d in sender.queued if d.endpoint_id == "h"]
    assert [a.error for a in hung.attempts] == ["Timeout", "Timeout"]
    view = hung.describe()
    assert view["event_id"] == "evt_1" and view["status"] == "failed" and "body" not in view
    assert sender.counts() == {"pending": 0, "delivered": 2, "failed": 1, "attempts": 4}
    sender.clear()
    assert sender.counts() == {"pending": 0, "delivered": 0, "failed": 0, "attempts": 0}
    assert set(sender.endpoints) == {"a", "b", "h"}


def test_retries_double_up_to_the_cap_and_deliver_now_ignores_backoff(
    receivers: tuple[str, Received],
) -> None:
    url, received = receivers
    delivered: list[Delivery] = []
    sender = _sender(delivered, attempts=4)
    assert [sender.retry_delay(n) for n in (1, 2, 3)] == [0.05, 0.08, 0.08]
    sender.add_endpoint(Endpoint("f", f"{url}/fail/f", "s"))
    sender.add_endpoint(Endpoint("a", f"{url}/ok/a", "s"))
    for i in range(3):
        sender.enqueue(["a"], f'{{"n":{i}}}'.encode(), f"n{i}")
    sender.enqueue(["f"], b"{}", "failing")
    batch = asyncio.run(sender.deliver_now(order="reverse"))
    assert len(batch) == 4 and [b for p, b, _ in received if p == "/ok/a"] == [
        b'{"n":2}',
        b'{"n":1}',
        b'{"n":0}',
    ]
    assert len(delivered) == 3
    (failing,) = [d for d in sender.queued if d.endpoint_id == "f"]
    assert failing.status == "pending" and [a.status_code for a in failing.attempts] == [500]
    assert failing.describe()["next_attempt_in"] is not None
    sender.remove_endpoint("f")
    asyncio.run(sender.deliver_now())
    assert failing.describe()["status"] == "failed"  # its endpoint is gone
