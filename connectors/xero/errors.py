"""The Xero exception hierarchy: every failed Accounting API call is one of these, marked `retryable` or not.

Grouped by what the caller does next:

* retry the same request (same Idempotency-Key): `ThrottledError` (a minute or concurrency limit: wait
  Retry-After), `ServerError`, `NetworkError`;
* stop calling this organisation until the next UTC day, failing nothing: `DailyLimitError` (5,000 calls);
* a person reconnects Xero: `AuthenticationError`, `ForbiddenError`;
* fix the data, then run again: `ValidationError` (with Xero's messages), `NotFoundError`, `XeroError`.

Messages say what went wrong and what to do; details from Xero pass through `redact_text`, and no token,
secret or Authorization header ever reaches one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.kit.errors import ProviderError

__all__ = [
    "AuthenticationError",
    "DailyLimitError",
    "ForbiddenError",
    "NetworkError",
    "NotFoundError",
    "ServerError",
    "ThrottledError",
    "ValidationError",
    "XeroError",
]


class XeroError(ProviderError):
    """A failed Xero request: the kit's code, status, request_id (the Idempotency-Key) and retry_after, plus
    `problem` (Xero's X-Rate-Limit-Problem on a 429) and `elements` (the elements of a validation error,
    each with its ValidationErrors)."""

    default_code = "xero_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int = 0,
        request_id: str | None = None,
        retry_after: float | None = None,
        problem: str | None = None,
        elements: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(
            message,
            code=code or self.default_code,
            status=status,
            request_id=request_id,
            retry_after=retry_after,
        )
        self.problem = problem
        self.elements = elements or []


class AuthenticationError(XeroError):
    """HTTP 401 after one refresh: the token was rejected; reconnect Xero."""

    default_code = "authentication_failed"


class ForbiddenError(XeroError):
    """HTTP 403: the organisation is no longer connected to the app, or a scope is missing."""

    default_code = "not_authorized"


class NotFoundError(XeroError):
    """HTTP 404: no such object in this organisation."""

    default_code = "not_found"


class ValidationError(XeroError):
    """HTTP 400 (ValidationException and the like): Xero refused the data."""

    default_code = "validation"


class ThrottledError(XeroError):
    """HTTP 429 for the minute, app-minute or concurrency limit: wait `retry_after` s, then retry."""

    default_code = "throttled"
    retryable = True


class DailyLimitError(XeroError):
    """HTTP 429 for the day limit (5,000 calls per organisation), or its remaining count at 0: no call to
    this organisation until `resume_at`. Not retryable in this run; nothing it touched has failed."""

    default_code = "daily_limit"

    def __init__(self, message: str, *, resume_at: datetime, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.resume_at = resume_at


class ServerError(XeroError):
    """HTTP 5xx or an unreadable answer: Xero failed on its side; retry with the same Idempotency-Key."""

    default_code = "server_error"
    retryable = True


class NetworkError(XeroError):
    """No usable answer: a timeout, a refused or reset connection, a body cut off."""

    default_code = "network_error"
    retryable = True
