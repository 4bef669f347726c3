"""The QuickBooks Online exception hierarchy: every API failure is one of these, marked `retryable` or not.

Grouped by what the caller should do next (the Singer SDK habit):

* retry the same request (same `requestid`): `ThrottledError`, `ServerError`, `NetworkError`;
* refresh the token (done once by `BearerAuth`; a second 401 is final): `AuthenticationError`;
* re-read and decide (conflict policy): `StaleObjectError`;
* look the existing object up and link it: `DuplicateDocNumberError`, `DuplicateNameError`;
* fix the data or the connection, then run again: everything else.

Messages say what went wrong and what to do; they never contain a token, a secret or an Authorization
header (details from QBO pass through `redact_text`).
"""

from __future__ import annotations

import re

from connectors.kit.errors import ProviderError
from sierra_core.errors import ConfigError
from sierra_core.redact import redact_text

__all__ = [
    "AuthenticationError",
    "AuthorizationError",
    "BaseURLError",
    "CompanyStatusError",
    "DuplicateDocNumberError",
    "DuplicateNameError",
    "NetworkError",
    "ObjectNotFoundError",
    "QuickBooksError",
    "ServerError",
    "StaleObjectError",
    "ThrottledError",
    "UnknownRealmError",
    "ValidationError",
]


class QuickBooksError(ProviderError):
    """A failed QuickBooks Online request.

    Besides the kit's `code` (the QBO fault code as a string, e.g. "5010"; without one, the HTTP status or
    the class's `default_code`, so every failure recorded carries a code), `status`, `request_id` (the
    `requestid` sent with a write) and `retry_after`: `element` (the field QBO blames, e.g.
    "Line.DetailType"), `detail` (QBO's detail text, redacted), `fault_type` (e.g. "ValidationFault") and
    `intuit_tid` (Intuit's transaction id header, for support tickets).
    """

    default_code = "quickbooks_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int = 0,
        element: str | None = None,
        detail: str | None = None,
        fault_type: str | None = None,
        request_id: str | None = None,
        intuit_tid: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            code=code or self.default_code,
            status=status,
            request_id=request_id,
            retry_after=retry_after,
        )
        self.element = element
        self.detail = redact_text(detail) if detail is not None else None
        self.fault_type = fault_type
        self.intuit_tid = intuit_tid


class AuthenticationError(QuickBooksError):
    """HTTP 401 / fault 3200: the access token was rejected even after one refresh; re-authorize."""

    default_code = "authentication_failed"


class AuthorizationError(QuickBooksError):
    """HTTP 403 / fault 3100: the token is valid but not allowed to do this (scope or company access)."""

    default_code = "not_authorized"


class UnknownRealmError(AuthorizationError):
    """The realm (company id) is unknown to QuickBooks or not connected with this token."""

    default_code = "unknown_realm"


class ThrottledError(QuickBooksError):
    """HTTP 429 / fault 3001: too many requests for this company; wait `retry_after` s (default 60)."""

    default_code = "throttled"

    retryable = True


class ServerError(QuickBooksError):
    """HTTP 5xx, or an unreadable answer: QuickBooks failed on its side; retry with the same requestid."""

    default_code = "server_error"

    retryable = True


class NetworkError(QuickBooksError):
    """No usable response: a timeout, a refused or reset connection, a response cut off mid-body."""

    default_code = "network_error"

    retryable = True


class StaleObjectError(QuickBooksError):
    """Fault 5010: the SyncToken sent is out of date; re-read the object and apply the conflict policy."""

    default_code = "5010"


class DuplicateDocNumberError(QuickBooksError):
    """Fault 6140: another transaction of this type already has the DocNumber.

    After a lost response this means "already created": look it up (`existing_txn_id`) and link it.
    """

    default_code = "6140"

    @property
    def existing_txn_id(self) -> str | None:
        """The Id of the transaction holding the number, when QBO names it (`TxnId=123` in the detail)."""
        match = re.search(r"TxnId=(\w+)", self.detail or "")
        return match.group(1) if match else None


class DuplicateNameError(QuickBooksError):
    """Fault 6240: a customer, vendor or employee (one shared name list) already uses this DisplayName."""

    default_code = "6240"


class ObjectNotFoundError(QuickBooksError):
    """Fault 610: the object, or one it references, does not exist or is inactive."""

    default_code = "610"


class ValidationError(QuickBooksError):
    """Faults 2xxx (bad or missing field), 4000/4001 (query), 6000 (business rule) and other HTTP 400s."""

    default_code = "validation_error"


class CompanyStatusError(QuickBooksError):
    """Faults 6190 (subscription/company status) and 6200/6210 (closed books period)."""

    default_code = "company_status"


class BaseURLError(ConfigError, ValueError):
    """The QuickBooks base URL is not usable (plain http to a non-loopback host, or malformed)."""
