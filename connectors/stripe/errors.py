"""The Stripe exception hierarchy: every SDK failure becomes one of these, marked `retryable` or not.

Grouped by what the caller does next:

* retry the same request with the same Idempotency-Key: `StripeNetworkError` (no answer, connection
  reset), `StripeServerError` (5xx), `StripeRateLimitError` (429), `StripeConflictError` (409: a twin request
  with the same key is still running);
* record the decline and ask for another payment method (never retry as is): `CardDeclinedError`, with
  `decline_code` (e.g. `insufficient_funds`) and the intent and charge ids;
* fix the configuration: `StripeAuthenticationError`, `StripePermissionError`;
* fix the request or the data: `StripeInvalidRequestError`, `StripeNotFoundError`, `StripeIdempotencyError`.

`classify` is the one place SDK exceptions are translated. Messages never contain the API key, a webhook
secret or a client secret (Stripe's text passes through `redact_text`).
"""

from __future__ import annotations

from typing import Any

import stripe

from connectors.kit.errors import ProviderError
from sierra_core.errors import ConfigError
from sierra_core.redact import redact_text

__all__ = [
    "CardDeclinedError",
    "StripeApiError",
    "StripeAuthenticationError",
    "StripeConfigError",
    "StripeConflictError",
    "StripeIdempotencyError",
    "StripeInvalidRequestError",
    "StripeNetworkError",
    "StripeNotFoundError",
    "StripePermissionError",
    "StripeRateLimitError",
    "StripeServerError",
    "classify",
]


class StripeApiError(ProviderError):
    """A failed Stripe request.

    Besides the kit's `code` (Stripe's error code, e.g. `card_declined`), `status` and `request_id`
    (Stripe's `req_…`, for support): `param` (the parameter Stripe blames), `idempotency_key` (the key the
    request carried, if any) and `error_type` (Stripe's `type`).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int = 0,
        param: str | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message, code=code, status=status, request_id=request_id)
        self.param = param
        self.idempotency_key = idempotency_key
        self.error_type = error_type


class StripeNetworkError(StripeApiError):
    """No usable answer (refused, reset or timed-out connection): retry with the same Idempotency-Key."""

    retryable = True


class StripeServerError(StripeApiError):
    """Stripe failed on its side (5xx): retry with the same Idempotency-Key."""

    retryable = True


class StripeRateLimitError(StripeApiError):
    """HTTP 429: too many requests; back off and retry."""

    retryable = True


class StripeConflictError(StripeApiError):
    """HTTP 409: another request with the same Idempotency-Key is still running; retry shortly."""

    retryable = True


class CardDeclinedError(StripeApiError):
    """HTTP 402: the card was declined. Not retryable as is: record `decline_code`, ask for another card."""

    def __init__(
        self,
        message: str,
        *,
        decline_code: str | None = None,
        payment_intent_id: str | None = None,
        charge_id: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.decline_code = decline_code
        self.payment_intent_id = payment_intent_id
        self.charge_id = charge_id


class StripeAuthenticationError(StripeApiError):
    """HTTP 401: the secret key was refused; check the Stripe secret-key block."""


class StripePermissionError(StripeApiError):
    """HTTP 403: the key may not do this (a restricted key)."""


class StripeInvalidRequestError(StripeApiError):
    """HTTP 400: a parameter is wrong (`param` says which)."""


class StripeNotFoundError(StripeInvalidRequestError):
    """HTTP 404 / `resource_missing`: the object does not exist (or not in this mode/account)."""


class StripeConfigError(StripeApiError, ConfigError):
    """The gateway cannot be built as configured (not a secret key, a bad base URL)."""


class StripeIdempotencyError(StripeApiError):
    """The Idempotency-Key was used before with other parameters: a bug in how the key was derived."""


def _error_object(exc: stripe.StripeError) -> dict[str, Any]:
    body = exc.json_body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return dict(body["error"])
    return {}


def _id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def classify(exc: stripe.StripeError, *, context: str, idempotency_key: str | None = None) -> StripeApiError:
    """Translate one SDK exception into the hierarchy; `context` names the operation for the message."""
    err = _error_object(exc)
    status = int(exc.http_status or 0)
    code = err.get("code") or exc.code
    stripe_text = redact_text(str(err.get("message") or exc.user_message or "no message"))
    common: dict[str, Any] = {
        "code": code,
        "status": status,
        "param": err.get("param"),
        "request_id": exc.request_id,
        "idempotency_key": idempotency_key,
        "error_type": err.get("type"),
    }
    where = f" (request {exc.request_id})" if exc.request_id else ""
    if isinstance(exc, stripe.CardError):
        decline = err.get("decline_code")
        intent = err.get("payment_intent")
        return CardDeclinedError(
            f"{context}: the card was declined ({decline or code or 'no reason given'}): {stripe_text}; "
            "ask the customer for another payment method",
            decline_code=decline,
            payment_intent_id=_id_of(intent),
            charge_id=_id_of(err.get("charge")),
            **common,
        )
    if isinstance(exc, stripe.APIConnectionError):
        return StripeNetworkError(
            f"{context}: no answer from Stripe ({stripe_text}); retried with the same idempotency key",
            **common,
        )
    if isinstance(exc, stripe.RateLimitError):
        return StripeRateLimitError(f"{context}: Stripe rate limit reached{where}; retry later", **common)
    if isinstance(exc, stripe.AuthenticationError):
        return StripeAuthenticationError(
            f"{context}: Stripe refused the secret key{where}; check the Stripe secret-key block "
            "(`sierra-sync blocks setup`)",
            **common,
        )
    if isinstance(exc, stripe.PermissionError):
        return StripePermissionError(
            f"{context}: the Stripe key may not do this{where}: {stripe_text}", **common
        )
    if isinstance(exc, stripe.IdempotencyError):
        return StripeIdempotencyError(
            f"{context}: Stripe refused the idempotency key{where}: {stripe_text}", **common
        )
    if isinstance(exc, stripe.InvalidRequestError):
        cls = (
            StripeNotFoundError if status == 404 or code == "resource_missing" else StripeInvalidRequestError
        )
        param = f" (parameter {err.get('param')})" if err.get("param") else ""
        return cls(f"{context}: Stripe refused the request{param}{where}: {stripe_text}", **common)
    if status == 409:
        return StripeConflictError(
            f"{context}: a request with the same idempotency key is still running at Stripe{where}", **common
        )
    if status >= 500 or status == 0:
        return StripeServerError(
            f"{context}: Stripe failed (HTTP {status or '?'}){where}: {stripe_text}", **common
        )
    return StripeApiError(f"{context}: Stripe answered HTTP {status}{where}: {stripe_text}", **common)
