"""The middleware of /api/ paths: rate-limit headers on every answer to a known key, a 500 that leaks
nothing, and one `api_request_logs` row per request (method, path, query with every value that holds a
secret redacted whole, status, time, ip, user agent, rate-limited flag, error code). Bodies are never
stored: they may carry webhook secrets.

Rows are written by `RequestLogWriter`, one background thread per process, so no request waits for its own
log row: a batch gathers the rows of up to `linger` seconds (0.1 s) and goes in one INSERT (one round trip
and one commit for up to `max_batch` rows), so the writer costs the API about 10 INSERTs a second whatever
its rate, not one per request or two. The app flushes the writer at shutdown; a process killed outright
loses the rows it had not written yet (at most one batch).

The middleware is plain ASGI (not BaseHTTPMiddleware, which runs every request in an extra task and streams
the body through a memory channel).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from fastapi import Request
from sqlalchemy import Engine, insert
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.apikeys import RateState
from sierra_core.db.models import ApiRequestLog
from sierra_core.redact import redact_values
from sierra_sync.web.api.errors import internal_error

__all__ = ["RequestLogMiddleware", "RequestLogWriter", "rate_headers"]

log = logging.getLogger("sierra_sync.web.api")

_STOP = object()
_RETRY_DELAYS = (0.5, 2.0)  # then the batch is given up, with one ERROR line that counts it


def rate_headers(rate: RateState) -> dict[str, str]:
    limit, remaining, reset = rate.binding
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(int(reset.timestamp())),
    }


def _clean(text: str, limit: int) -> str:
    # NUL and lone surrogates cannot be stored (PostgreSQL refuses them): the log row must still go in.
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")[:limit]


class RequestLogWriter:
    """Batches `api_request_logs` rows into INSERTs from one daemon thread (started on first use).

    A batch starts with the first row queued and takes what arrives in the next `linger` seconds (or until
    `max_batch` rows). That is what keeps the writer's CPU down: taking only the rows that queued during the
    previous INSERT made small batches at a few hundred requests a second (the queue is often empty when an
    INSERT ends), and each INSERT and commit costs the process a good part of a list request's CPU
    (BENCHMARKS.md, issue 20). A row is stored at most `linger` seconds (plus one INSERT) after its answer.

    `flush()` returns once every row added before it is stored (tests, shutdown; it ends the wait of the
    batch being gathered); `close()` flushes and stops the thread."""

    def __init__(self, engine: Engine, *, max_batch: int = 500, linger: float = 0.1) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._linger = linger
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def add(self, row: dict[str, Any]) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._start:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="api-request-log", daemon=True)
                    self._thread.start()
        self._queue.put(row)

    def flush(self, timeout: float = 10.0) -> bool:
        if self._thread is None or not self._thread.is_alive():
            return True
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._queue.put(_STOP)
        thread.join(timeout)

    def _run(self) -> None:
        stop = False
        while not stop:
            batch: list[dict[str, Any]] = []
            waiters: list[threading.Event] = []
            item = self._queue.get()
            deadline = time.monotonic() + self._linger
            while True:
                if item is _STOP:
                    stop = True
                elif isinstance(item, threading.Event):
                    waiters.append(item)
                else:
                    batch.append(item)
                if stop or waiters or len(batch) >= self._max_batch:
                    break
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
            if batch:
                self._write(batch)
            for waiter in waiters:
                waiter.set()

    def _write(self, batch: list[dict[str, Any]]) -> None:
        for delay in (*_RETRY_DELAYS, None):
            try:
                with self._engine.begin() as conn:
                    conn.execute(insert(ApiRequestLog), batch)
                return
            except Exception as exc:  # the log must never take the API down
                if delay is None:
                    log.error("api request log: %d row(s) not written (%s)", len(batch), type(exc).__name__)
                    return
                log.warning("api request log: write failed (%s); retrying", type(exc).__name__)
                time.sleep(delay)


class RequestLogMiddleware:
    """Rate-limit headers, the last-resort 500, and the request's log row, for /api/ paths."""

    def __init__(self, app: ASGIApp, writer: RequestLogWriter) -> None:
        self.app = app
        self.writer = writer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = scope.setdefault("state", {})
        status = 500
        answered = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                answered = True
                status = message["status"]
                rate: RateState | None = state.get("rate")
                if rate is not None:
                    MutableHeaders(scope=message).update(rate_headers(rate))
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:  # the one place a bug becomes a bare 500
            if answered:
                raise
            await internal_error(Request(scope), exc)(scope, receive, send_with_headers)
        finally:
            self.writer.add(self._row(scope, state, status, started))

    @staticmethod
    def _row(scope: Scope, state: dict[str, Any], status: int, started: float) -> dict[str, Any]:
        request = Request(scope)
        query = {_clean(k, 100): _clean(v, 500) for k, v in request.query_params.items()}
        client = scope.get("client")
        return {
            "api_key_id": state.get("key_id"),
            "company_id": state.get("company_id"),
            "method": scope["method"][:10],
            "path": _clean(scope["path"], 2000),
            "query_params": redact_values(query) if query else None,
            "status_code": status,
            "response_time_ms": int((time.perf_counter() - started) * 1000),
            "ip_address": client[0][:45] if client else None,
            "user_agent": _clean(request.headers.get("user-agent") or "", 500) or None,
            "rate_limit_exceeded": bool(state.get("rate_limited", False)),
            "error_code": state.get("error_code"),
        }
