"""Xero's JSON on the wire: `/Date(ms+0000)/` dates, exact money in and out, the response envelope and the
error bodies (ValidationException 400, 401/403 problem documents, 404 text, 429 with Retry-After)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.responses import JSONResponse, PlainTextResponse, Response

__all__ = [
    "BadRequest",
    "api_error",
    "envelope",
    "json_response",
    "ms_date",
    "parse_body",
    "parse_date",
    "validation_exception",
]

_MS = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadRequest(ValueError):
    """A request Xero refuses as a whole (400) with one message."""


def ms_date(moment: datetime | date) -> str:
    """Xero's `/Date(1552327126164+0000)/`."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    ms = int((moment.astimezone(UTC) - _EPOCH) / timedelta(milliseconds=1))
    return f"/Date({ms}+0000)/"


def parse_date(value: Any, field: str) -> date:
    """A date sent as `YYYY-MM-DD[THH:MM:SS]` or `/Date(ms±hhmm)/`."""
    text = str(value).strip()
    match = _MS.match(text)
    try:
        if match:
            return (_EPOCH + timedelta(milliseconds=int(match.group(1)))).date()
        return date.fromisoformat(text[:10])
    except ValueError:
        raise BadRequest(f"{field} {text!r} is not a date (YYYY-MM-DD)") from None


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # money is 2 dp, quantities 4: the float's repr is the exact decimal
    raise TypeError(f"{type(value).__name__} is not JSON")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, default=_plain), status, headers, media_type="application/json")


def envelope(resource: str, documents: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    return {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": "sierra-sync local sandbox",
        "DateTimeUTC": ms_date(now),
        resource: documents,
    }


def validation_exception(
    elements: list[dict[str, Any]] | None, messages: list[str] | None = None
) -> Response:
    body: dict[str, Any] = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
    }
    if elements is not None:
        body["Elements"] = elements
    else:
        body["Elements"] = [{"ValidationErrors": [{"Message": m} for m in messages or []]}]
    return json_response(body, 400)


def api_error(status: int, message: str) -> Response:
    """The kit's refusals in Xero's shapes."""
    if status == 404:
        return PlainTextResponse("The resource you're looking for cannot be found", 404)
    if status == 429:
        return JSONResponse(
            {"Message": "Rate limit exceeded"},
            429,
            {"Retry-After": "60", "X-Rate-Limit-Problem": "minute"},
        )
    if status in (401, 403):
        detail = "AuthenticationUnsuccessful" if status == 401 else "AuthorizationUnsuccessful"
        if message == "token_expired":
            detail = "TokenExpired: token expired at a moment in the past"
        title = "Unauthorized" if status == 401 else "Forbidden"
        return JSONResponse({"Type": None, "Title": title, "Status": status, "Detail": detail}, status)
    return JSONResponse({"Title": "An error occurred", "Detail": message, "Status": status}, status)


def parse_body(raw: bytes, resource: str) -> list[dict[str, Any]]:
    """The elements of a request body: `{"Invoices": [...]}` or one bare document."""
    if not raw.strip():
        raise BadRequest("The request body is empty")
    try:
        doc = json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise BadRequest("The request body is not valid JSON") from None
    if not isinstance(doc, dict):
        raise BadRequest(f"The request body must be an object ({{{resource!r}: [...]}})")
    if resource in doc:
        items = doc[resource]
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise BadRequest(f"{resource} must be a list of objects")
        return list(items)
    return [doc]
