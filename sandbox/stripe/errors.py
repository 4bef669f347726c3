"""Stripe's error bodies (`{"error": {type, code, message, param, doc_url, …}}`) and their HTTP statuses."""

from __future__ import annotations

from typing import Any

DOC_BASE = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    """An error the sandbox answers with: HTTP status plus Stripe's error object."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.code = code
        self.param = param
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON body Stripe sends for this error."""
        error: dict[str, Any] = {}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = DOC_BASE + self.code.replace("_", "-")
        error["message"] = self.message
        if self.param is not None:
            error["param"] = self.param
        error.update(self.extra)
        error["type"] = self.type
        return {"error": error}


def invalid_request(
    message: str, *, param: str | None = None, code: str | None = None, status: int = 400
) -> StripeError:
    """400 invalid_request_error (the most common Stripe error)."""
    return StripeError(status, "invalid_request_error", message, code=code, param=param)


def resource_missing(object_name: str, object_id: str, param: str = "id") -> StripeError:
    """`No such customer: 'cus_…'`: 404 for the object in the URL, 400 for one named by a parameter."""
    return StripeError(
        404 if param == "id" else 400,
        "invalid_request_error",
        f"No such {object_name}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def missing_param(param: str) -> StripeError:
    """400 parameter_missing."""
    return invalid_request(f"Missing required param: {param}.", param=param, code="parameter_missing")


def unknown_param(param: str) -> StripeError:
    """400 parameter_unknown."""
    return invalid_request(f"Received unknown parameter: {param}", param=param, code="parameter_unknown")


def unexpected_state(message: str, code: str = "payment_intent_unexpected_state") -> StripeError:
    """400 for an action the object's current status does not allow."""
    return invalid_request(message, code=code)


def authentication_error(message: str) -> StripeError:
    """401: Stripe uses type invalid_request_error for a missing or bad key."""
    return StripeError(401, "invalid_request_error", message)


def idempotency_mismatch(key: str) -> StripeError:
    """400 idempotency_error: the key was first used with other parameters."""
    return StripeError(
        400,
        "idempotency_error",
        "Keys for idempotent requests can only be used with the same parameters they were first used with. "
        f"Try using a key other than '{key}' if you meant to execute a different request.",
    )


def idempotency_in_progress() -> StripeError:
    """409: another request with the same key is still running."""
    return StripeError(
        409,
        "invalid_request_error",
        "There is currently another in-progress request using this idempotency key. Please try again later.",
        code="idempotency_key_in_use",
    )


def rate_limited() -> StripeError:
    """429 rate_limit."""
    return StripeError(
        429,
        "invalid_request_error",
        "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
        code="rate_limit",
    )


def api_error(status: int = 500) -> StripeError:
    """5xx api_error, Stripe's answer to a failure on its side."""
    return StripeError(
        status, "api_error", "An unknown error occurred", headers={"Stripe-Should-Retry": "true"}
    )


def not_found_route(method: str, path: str) -> StripeError:
    """404 for a URL the sandbox does not serve (Stripe's 'Unrecognized request URL')."""
    return StripeError(
        404,
        "invalid_request_error",
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at "
        "https://support.stripe.com/.",
    )
