"""Every Xero Accounting API answer read into parsed JSON or a typed `XeroError`, and the rate-limit
headers Xero sends with each answer.

* 2xx: the JSON (fractions as `Decimal`), or None for an empty body;
* 400: a ValidationException (`{"ErrorNumber": 10, "Type": "ValidationException", "Message", "Elements":
  [{..., "ValidationErrors": [{"Message"}]}]}`) or another refusal → `ValidationError` with Xero's messages;
* 401 → `AuthenticationError`; 403 → `ForbiddenError`; 404 → `NotFoundError`;
* 429 with `X-Rate-Limit-Problem: day` → `DailyLimitError` (resume at the next UTC day, or later when
  Retry-After says so); other problems (minute, appminute, concurrent) → `ThrottledError` with Retry-After;
* 5xx or an unreadable success → `ServerError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors.xero.codec import loads
from connectors.xero.errors import (
    AuthenticationError,
    DailyLimitError,
    ForbiddenError,
    NotFoundError,
    ServerError,
    ThrottledError,
    ValidationError,
    XeroError,
)

__all__ = ["RateRemaining", "classify", "next_utc_day", "validation_messages"]

DEFAULT_WAIT = 60.0  # Xero's minute window, when a 429 does not say


@dataclass(frozen=True)
class RateRemaining:
    """What Xero says is left: calls this minute and today for the organisation, this minute for the app."""

    minute: int | None = None
    day: int | None = None
    app_minute: int | None = None

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> RateRemaining | None:
        def number(name: str) -> int | None:
            value = headers.get(name, "").strip()
            return int(value) if value.lstrip("-").isdigit() else None

        found = cls(
            number("X-MinLimit-Remaining"), number("X-DayLimit-Remaining"), number("X-AppMinLimit-Remaining")
        )
        return found if found != cls() else None


def next_utc_day(now: datetime) -> datetime:
    """Midnight UTC after `now`."""
    day = now.astimezone(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("Retry-After", "").strip()
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


def validation_messages(items: Any) -> list[str]:
    """The `Message` of every ValidationError in `items` (a list of `{"Message": ...}`)."""
    if not isinstance(items, list):
        return []
    return [str(i["Message"]) for i in items if isinstance(i, Mapping) and i.get("Message")]


def _element_messages(body: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    elements = [dict(e) for e in body.get("Elements") or [] if isinstance(e, Mapping)]
    messages = [m for e in elements for m in validation_messages(e.get("ValidationErrors"))]
    return messages, elements


def _json_or_none(body: bytes) -> Any:
    try:
        return loads(body) if body.strip() else None
    except ValueError:
        return None


def _detail(doc: Any) -> str:
    if isinstance(doc, Mapping):
        for key in ("Detail", "Message", "Title", "error"):
            if doc.get(key):
                return str(doc[key])
    return ""


def classify(
    status: int,
    headers: httpx.Headers,
    body: bytes,
    *,
    context: str,
    request_id: str | None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Any:
    """The parsed answer, or the `XeroError` it means (see the module docstring)."""
    what = f"Xero {context}".strip()
    common: dict[str, Any] = {"status": status, "request_id": request_id}
    if 200 <= status < 300:
        if not body.strip():
            return None
        try:
            return loads(body)
        except ValueError:
            raise ServerError(f"{what}: the answer is not JSON; retry later", **common) from None
    doc = _json_or_none(body)
    detail = _detail(doc)
    if status == 429:
        problem = headers.get("X-Rate-Limit-Problem", "").strip().lower() or None
        wait = _retry_after(headers)
        if problem == "day":
            at = now()
            resume = max(next_utc_day(at), at + timedelta(seconds=wait or 0))
            raise DailyLimitError(
                f"{what}: this organisation's daily allowance of Xero calls is spent; the remaining "
                f"records wait until {resume:%Y-%m-%d %H:%M} UTC (nothing failed)",
                resume_at=resume,
                problem=problem,
                retry_after=wait,
                **common,
            )
        raise ThrottledError(
            f"{what}: Xero's {problem or 'rate'} limit was reached; waiting {wait or DEFAULT_WAIT:.0f} s",
            problem=problem,
            retry_after=wait if wait is not None else DEFAULT_WAIT,
            **common,
        )
    if status == 400:
        messages, elements = _element_messages(doc) if isinstance(doc, Mapping) else ([], [])
        said = "; ".join(messages[:3]) or detail or "the request was refused"
        raise ValidationError(
            f"{what} was refused: {said}. Fix the record in the app (or the Xero settings it names) "
            "and sync again.",
            code=str(doc.get("Type") or "validation") if isinstance(doc, Mapping) else None,
            elements=elements,
            **common,
        )
    if status == 401:
        raise AuthenticationError(
            f"{what}: Xero rejected the access token even after a refresh; reconnect Xero for this company "
            "(`sierra-sync connect xero --company …`)",
            **common,
        )
    if status == 403:
        raise ForbiddenError(
            f"{what}: Xero refused access to this organisation ({detail or 'forbidden'}); it may have been "
            "disconnected from the app or a permission is missing: reconnect Xero for this company",
            **common,
        )
    if status == 404:
        raise NotFoundError(f"{what}: not found in this Xero organisation", **common)
    if status >= 500:
        raise ServerError(f"{what}: Xero answered {status}; retrying is safe", **common)
    raise XeroError(f"{what}: Xero answered {status} {detail}".rstrip(), **common)
