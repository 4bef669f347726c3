"""One HTTP client base for every provider's API: an `httpx.Client` per connection with bearer auth (refresh
once on a 401), layer-1 retries (same request, same idempotency key; Retry-After honoured), the
connection's limiter around every attempt, and the provider's classifier turning each answer into parsed
JSON or a typed `ProviderError`.

    class XeroClient(ApiClient):
        def invoices(self, page: int) -> Any:
            return self.send("GET", "Invoices", params={"page": str(page)}, context="list invoices")

A provider's client subclasses it and adds its calls; what is the provider's own is `classify` (how its
answers and faults read), `network_error` (its NetworkError type) and where an idempotency key goes
(`idempotency`: a header such as Idempotency-Key, or a query parameter such as QuickBooks' requestid).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import Any, Protocol, Self

import httpx

from connectors.kit.auth import BearerAuth, TokenSource
from connectors.kit.errors import ProviderError
from connectors.kit.retry import RetryPolicy, run_with_retries
from sierra_core.redact import redact_text

__all__ = ["ApiClient", "Classifier", "Idempotency", "RequestLimiter"]

log = logging.getLogger("sierra_sync.kit.http")


class Classifier(Protocol):
    """Reads one answer: the parsed body, or raises the provider's `ProviderError` subclass."""

    def __call__(
        self, status: int, headers: httpx.Headers, body: bytes, *, context: str, request_id: str | None
    ) -> Any: ...


class RequestLimiter(Protocol):
    """Entered around every HTTP attempt (see connectors/kit/ratelimit.py)."""

    def acquire(self, *, batch: bool = False) -> AbstractContextManager[None]: ...


class _Unlimited:
    def acquire(self, *, batch: bool = False) -> AbstractContextManager[None]:
        return nullcontext()


class Idempotency:
    """Where a write's idempotency key travels: `Idempotency(header="Idempotency-Key")` or
    `Idempotency(query="requestid")`."""

    def __init__(self, *, header: str | None = None, query: str | None = None) -> None:
        if (header is None) == (query is None):
            raise ValueError("an idempotency key goes in a header or in the query, not both or neither")
        self.header = header
        self.query = query


class ApiClient:
    """The HTTP side of one provider connection; use it as a context manager (it owns one httpx.Client).

    `auth` is an `httpx.Auth` or a `TokenSource` (wrapped in `BearerAuth`); `on_retry(error, wait, n)`
    runs before each retry wait (e.g. to pause the whole connection's limiter after a 429).
    """

    title = "the provider"
    logger = log  # a provider's client logs under its own name

    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth | TokenSource | None,
        *,
        classify: Classifier,
        network_error: Callable[[str, str | None], ProviderError],
        idempotency: Idempotency | None = None,
        retry: RetryPolicy | None = None,
        limiter: RequestLimiter | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | float = 60.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self.limiter: RequestLimiter = limiter if limiter is not None else _Unlimited()
        self._classify = classify
        self._network_error = network_error
        self._idempotency = idempotency
        http_auth = auth if auth is None or isinstance(auth, httpx.Auth) else BearerAuth(auth)
        self._http = httpx.Client(
            base_url=base_url,
            auth=http_auth,
            transport=transport,
            timeout=timeout,
            headers={"Accept": "application/json", "User-Agent": "sierra-sync/0.1", **(headers or {})},
            follow_redirects=False,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def on_retry(self, error: ProviderError, wait: float, attempt_number: int, shown: str) -> None:
        """Log a retry (subclasses may also pause their limiter)."""
        self.logger.warning(
            "%s %s failed with %s (code %s, HTTP %s); attempt %d of %d, retrying in %.1f s",
            self.title,
            shown,
            type(error).__name__,
            error.code,
            error.status,
            attempt_number,
            self.retry.max_attempts,
            wait,
        )

    def shown(self, method: str, path: str, params: Mapping[str, str]) -> str:
        """The request as it may be logged (the query string redacted)."""
        query = redact_text("&".join(f"{k}={v}" for k, v in params.items()))
        return f"{method} {self._http.base_url}{path}" + (f"?{query}" if query else "")

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        batch: bool = False,
        context: str = "",
    ) -> Any:
        """One API call with retries: the classified answer, or the provider's `ProviderError`.

        A write is retried only with its `idempotency_key` (the same key on every attempt)."""
        query = dict(params or {})
        extra = dict(headers or {})
        if content_type:
            extra["Content-Type"] = content_type
        if idempotency_key is not None and self._idempotency is not None:
            if self._idempotency.header:
                extra[self._idempotency.header] = idempotency_key
            elif self._idempotency.query:
                query[self._idempotency.query] = idempotency_key
        what = context or path

        def attempt() -> Any:
            with self.limiter.acquire(batch=batch):
                try:
                    response = self._http.request(method, path, params=query, content=content, headers=extra)
                except (httpx.TransportError, httpx.DecodingError) as exc:
                    raise self._network_error(
                        f"{self.title} {what} got no usable answer ({type(exc).__name__}); check the "
                        "network; it is safe to run the sync again (the same idempotency key is sent).",
                        idempotency_key,
                    ) from exc
            self.logger.debug("%s -> %s", self.shown(method, path, query), response.status_code)
            return self._classify(
                response.status_code,
                response.headers,
                response.content,
                context=context,
                request_id=idempotency_key,
            )

        shown = self.shown(method, path, query)
        return run_with_retries(self.retry, attempt, lambda e, w, n: self.on_retry(e, w, n, shown))
