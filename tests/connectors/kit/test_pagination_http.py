"""Pagination strategies and the HTTP client base, against httpx.MockTransport."""

from __future__ import annotations

import httpx
import pytest

from connectors.kit.errors import ProviderError
from connectors.kit.http import ApiClient, Idempotency
from connectors.kit.pagination import CursorPages, NextTokens, Page, PageNumbers, PaginationError, paginate
from connectors.kit.retry import RetryPolicy

ROWS = [{"id": f"r{i}"} for i in range(7)]


def _by_number(params):
    size, page = 3, params["page"]
    return Page(ROWS[(page - 1) * size : page * size])


def _by_cursor(params):
    start = next((i + 1 for i, r in enumerate(ROWS) if r["id"] == params.get("starting_after")), 0)
    rows = ROWS[start : start + params["limit"]]
    return Page(rows, has_more=start + params["limit"] < len(ROWS))


def _by_token(params):
    start = int(params.get("pageToken", 0))
    return Page(ROWS[start : start + 4], next_token=str(start + 4) if start + 4 < len(ROWS) else None)


@pytest.mark.parametrize(
    ("fetch", "strategy"),
    [(_by_number, PageNumbers(page_size=3)), (_by_cursor, CursorPages(limit=2)), (_by_token, NextTokens())],
)
def test_every_strategy_reads_every_row_once(fetch, strategy):
    assert list(paginate(fetch, strategy)) == ROWS


def test_a_server_that_ignores_paging_is_stopped():
    with pytest.raises(PaginationError, match="same page twice"):
        list(paginate(lambda params: Page(ROWS[:3]), PageNumbers(page_size=3), what="invoices"))
    with pytest.raises(PaginationError, match="did not end after 2 pages"):
        list(
            paginate(lambda params: Page([{"id": params["page"]}] * 3), PageNumbers(page_size=3), max_pages=2)
        )


class Flaky(ProviderError):
    retryable = True


def _classify(status, headers, body, *, context, request_id):
    if status >= 500 or status == 429:
        retry_after = float(headers["Retry-After"]) if "Retry-After" in headers else None
        raise Flaky(f"{context}: HTTP {status}", status=status, retry_after=retry_after)
    return httpx.Response(status, content=body).json()


def test_writes_are_retried_with_the_same_key_and_retry_after_is_honoured():
    seen: list[tuple[str | None, str | None]] = []
    sleeps: list[float] = []
    answers = [
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(503),
        httpx.Response(200, json={"ok": 1}),
    ]

    def handler(request):
        seen.append((request.headers.get("Idempotency-Key"), request.url.params.get("requestid")))
        return answers.pop(0)

    client = ApiClient(
        "https://api.example.test/",
        None,
        classify=_classify,
        network_error=lambda message, key: Flaky(message, request_id=key),
        idempotency=Idempotency(header="Idempotency-Key"),
        retry=RetryPolicy(jitter=0.0, sleep=sleeps.append),
        transport=httpx.MockTransport(handler),
    )
    with client:
        assert client.send("POST", "things", content=b"{}", idempotency_key="k-1", context="create") == {
            "ok": 1
        }
    assert seen == [("k-1", None)] * 3 and sleeps == [7.0, 2.0]


def test_a_lost_connection_is_the_providers_network_error():
    def handler(request):
        raise httpx.ConnectError("refused")

    client = ApiClient(
        "https://api.example.test/",
        None,
        classify=_classify,
        network_error=lambda message, key: Flaky(message, request_id=key),
        idempotency=Idempotency(query="requestid"),
        retry=RetryPolicy(max_attempts=2, sleep=lambda s: None),
        transport=httpx.MockTransport(handler),
    )
    with client, pytest.raises(Flaky, match="got no usable answer") as err:
        client.send("POST", "things", idempotency_key="rid-9", context="create thing")
    assert err.value.request_id == "rid-9"
