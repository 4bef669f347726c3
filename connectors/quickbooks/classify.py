"""One table-driven classifier for every QuickBooks Online answer: parsed JSON, or a typed exception.

`classify(status, headers, body)` reads the whole answer the way QBO actually sends it:

* JSON with `Fault` (any HTTP status, including 200: an HTTP 200 is not success until its body says so);
* the lower-case 401 body (`{"fault": {"error": [{"message", "detail", "code"}], "type": "AUTHENTICATION"}}`);
* XML bodies (`<IntuitResponse><Fault><Error code="3001"><Message>…`), which throttling often returns even
  when JSON was asked for, and the bare `message=ThrottleExceeded; errorCode=003001; statusCode=429` text;
* anything else by HTTP status.

`error_from_fault(fault)` is the same table applied to one `Fault` object, used for batch items.
All JSON is parsed with `parse_float=Decimal`: money is never a float.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from connectors.quickbooks.codec import loads
from connectors.quickbooks.errors import (
    AuthenticationError,
    AuthorizationError,
    CompanyStatusError,
    DuplicateDocNumberError,
    DuplicateNameError,
    ObjectNotFoundError,
    QuickBooksError,
    ServerError,
    StaleObjectError,
    ThrottledError,
    UnknownRealmError,
    ValidationError,
)

__all__ = [
    "DEFAULT_THROTTLE_WAIT",
    "FAULT_RULES",
    "Fault",
    "classify",
    "error_from_fault",
    "parse_fault",
    "parse_retry_after",
]

DEFAULT_THROTTLE_WAIT = 60.0  # Intuit: "wait 60 seconds" when no Retry-After is sent


@dataclass(frozen=True)
class Rule:
    """What a fault code means: the exception class and the advice appended to the message."""

    error: type[QuickBooksError]
    advice: str


# Exact fault codes first; then code families (`_family`); then the HTTP status (`_STATUS_RULES`).
FAULT_RULES: dict[str, Rule] = {
    "3200": Rule(AuthenticationError, "Reconnect QuickBooks for this company (the token was rejected)."),
    "3201": Rule(AuthenticationError, "Reconnect QuickBooks for this company (the token was rejected)."),
    "3202": Rule(AuthenticationError, "Reconnect QuickBooks for this company (the token was rejected)."),
    "3100": Rule(
        UnknownRealmError,
        "Check the company's realm id and reconnect QuickBooks: this token has no access to that company.",
    ),
    "3001": Rule(
        ThrottledError, "Too many requests for this company; wait a minute, then run the sync again."
    ),
    "5010": Rule(
        StaleObjectError, "Someone changed the object since it was read; re-read it and sync again."
    ),
    "6140": Rule(
        DuplicateDocNumberError,
        "A transaction with this DocNumber already exists; link the existing one or change the number.",
    ),
    "6240": Rule(
        DuplicateNameError,
        "A customer, vendor or employee already uses this name; link the existing one or rename.",
    ),
    "610": Rule(
        ObjectNotFoundError,
        "The object or something it references was deleted or made inactive in QuickBooks; "
        "check the referenced customers, items and accounts.",
    ),
    "4000": Rule(ValidationError, "The query does not parse; this is a bug in the query sent."),
    "4001": Rule(ValidationError, "The query names an unknown entity or field; check the query."),
    "6000": Rule(ValidationError, "QuickBooks refused this by a business rule; fix the data and sync again."),
    "6190": Rule(
        CompanyStatusError,
        "The QuickBooks company cannot accept changes (subscription or company status); "
        "ask the company's QuickBooks admin to resolve it.",
    ),
    "6200": Rule(
        CompanyStatusError,
        "The transaction date is in a closed books period; change the date or reopen the period.",
    ),
    "6210": Rule(
        CompanyStatusError,
        "The transaction date is in a closed books period; change the date or reopen the period.",
    ),
}

_STATUS_RULES: dict[int, Rule] = {
    400: Rule(ValidationError, "QuickBooks rejected the request; fix the data and sync again."),
    401: FAULT_RULES["3200"],
    403: Rule(
        AuthorizationError,
        "This connection is not allowed to do that; check the app's scopes and the company's access.",
    ),
    404: Rule(ObjectNotFoundError, "QuickBooks does not know this address or object; check the ids."),
    429: FAULT_RULES["3001"],
}
_SERVER_RULE = Rule(ServerError, "QuickBooks failed on its side; it is safe to run the sync again later.")
_OTHER_RULE = Rule(QuickBooksError, "Unexpected answer from QuickBooks; try again later.")


def _family(code: str) -> Rule | None:
    if len(code) == 4 and code.startswith("2"):
        return Rule(ValidationError, "A field is missing or invalid; fix it and sync again.")
    if len(code) == 4 and code.startswith("6"):
        return FAULT_RULES["6000"]
    return None


@dataclass(frozen=True)
class Fault:
    """The first Error of a QBO Fault, normalised from any of its spellings."""

    code: str | None
    message: str
    detail: str | None
    element: str | None
    fault_type: str | None


def _ci(obj: Mapping[str, Any], name: str) -> Any:
    """`obj[name]` with the key matched case-insensitively (401 bodies use `fault`, `error`, `message`)."""
    if name in obj:
        return obj[name]
    lowered = name.lower()
    for key, value in obj.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return None


_ERRORCODE = re.compile(r"errorCode=0*(\d+)")


def _code_of(error: Mapping[str, Any], message: str) -> str | None:
    code = _ci(error, "code")
    if code is not None and str(code).strip():
        return str(code).strip().lstrip("0") or "0"
    match = _ERRORCODE.search(message)  # "message=ThrottleExceeded; errorCode=003001; statusCode=429"
    return match.group(1) if match else None


def parse_fault(fault: Any) -> Fault | None:
    """A `Fault` from the JSON `Fault`/`fault` object (None when it is not one)."""
    if not isinstance(fault, Mapping):
        return None
    errors = _ci(fault, "Error")
    error: Mapping[str, Any] = {}
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        error = errors[0]
    elif isinstance(errors, Mapping):
        error = errors
    message = str(_ci(error, "Message") or "")
    detail = _ci(error, "Detail")
    element = _ci(error, "element")
    fault_type = _ci(fault, "type")
    return Fault(
        code=_code_of(error, message),
        message=message,
        detail=None if detail is None else str(detail),
        element=None if element is None else str(element),
        fault_type=None if fault_type is None else str(fault_type),
    )


_XML_CODE = re.compile(r"<Error\b[^>]*\bcode=\"([^\"]+)\"", re.IGNORECASE)
_XML_TAG = {
    name: re.compile(rf"<{name}>(.*?)</{name}>", re.IGNORECASE | re.DOTALL) for name in ("Message", "Detail")
}
_XML_TYPE = re.compile(r"<Fault\b[^>]*\btype=\"([^\"]+)\"", re.IGNORECASE)


def _xml_fault(text: str) -> Fault | None:
    # Regular expressions rather than an XML parser: the body is untrusted and we need three values.
    if "<Fault" not in text and "<fault" not in text:
        return None
    message_m = _XML_TAG["Message"].search(text)
    detail_m = _XML_TAG["Detail"].search(text)
    message = message_m.group(1).strip() if message_m else ""
    code_m = _XML_CODE.search(text)
    type_m = _XML_TYPE.search(text)
    code = code_m.group(1).lstrip("0") if code_m else _code_of({}, message)
    return Fault(
        code=code,
        message=message,
        detail=detail_m.group(1).strip() if detail_m else None,
        element=None,
        fault_type=type_m.group(1) if type_m else None,
    )


def _text_fault(text: str) -> Fault | None:
    code = _code_of({}, text)
    if code is None:
        return None
    return Fault(code=code, message=text.strip()[:200], detail=None, element=None, fault_type=None)


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now())


def _rule_for(code: str | None, status: int) -> Rule:
    if code is not None:
        rule = FAULT_RULES.get(code) or _family(code)
        if rule is not None:
            # An unknown realm answers 403/3100 but some gateways say 401: trust the code.
            return rule
    if status >= 500:
        return _SERVER_RULE
    return _STATUS_RULES.get(status, _STATUS_RULES[400] if 400 <= status < 500 else _OTHER_RULE)


def error_from_fault(
    fault: Fault | Mapping[str, Any],
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    context: str = "",
    request_id: str | None = None,
) -> QuickBooksError:
    """The exception for one Fault (a response's or a batch item's); returned, not raised."""
    parsed = fault if isinstance(fault, Fault) else parse_fault(fault)
    if parsed is None:
        parsed = Fault(code=None, message="", detail=None, element=None, fault_type=None)
    return _build(parsed, status, headers or {}, context, request_id)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, val in headers.items():
        if key.lower() == lowered:
            return val
    return None


def _build(
    fault: Fault, status: int, headers: Mapping[str, str], context: str, request_id: str | None
) -> QuickBooksError:
    rule = _rule_for(fault.code, status)
    what = fault.message or (f"HTTP {status}" if status else "error")
    if fault.code and fault.code not in what:
        what = f"{what} (code {fault.code})"
    parts = [f"QuickBooks {context} failed: {what}" if context else f"QuickBooks request failed: {what}"]
    if fault.element:
        parts.append(f"field {fault.element}")
    if fault.detail and fault.detail != fault.message:
        parts.append(fault.detail.strip().rstrip("."))
    message = "; ".join(parts) + ". " + rule.advice
    retry_after = parse_retry_after(_header(headers, "Retry-After"))
    if rule.error is ThrottledError and retry_after is None:
        retry_after = DEFAULT_THROTTLE_WAIT
    return rule.error(
        message,
        code=fault.code or (str(status) if status else None),
        status=status,
        element=fault.element,
        detail=fault.detail,
        fault_type=fault.fault_type,
        request_id=request_id,
        intuit_tid=_header(headers, "intuit_tid"),
        retry_after=retry_after,
    )


def _fault_in(body: bytes) -> tuple[Any, Fault | None]:
    """(parsed JSON or None, the Fault it carries or None)."""
    text = body.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("<"):
        return None, _xml_fault(stripped)
    try:
        data = loads(body)
    except ValueError:
        return None, _text_fault(text)
    if isinstance(data, Mapping):
        raw = _ci(data, "Fault")
        if raw is not None:
            return data, parse_fault(raw)
    return data, None


def classify(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    context: str = "",
    request_id: str | None = None,
) -> Any:
    """The parsed JSON of a successful answer; raises the matching `QuickBooksError` otherwise.

    `context` names the operation for the message ("create Invoice"); `request_id` is attached to the error.
    """
    data, fault = _fault_in(body)
    if fault is not None:
        raise _build(fault, status, headers, context, request_id)
    if 200 <= status < 300:
        if data is None:
            # A 2xx whose body does not parse: cut off or mangled on the way. Safe to retry (same requestid).
            raise ServerError(
                f"QuickBooks {context or 'request'} returned an unreadable answer (HTTP {status}); "
                "it is safe to run the sync again.",
                status=status,
                request_id=request_id,
                intuit_tid=_header(headers, "intuit_tid"),
            )
        return data
    empty = Fault(code=None, message="", detail=None, element=None, fault_type=None)
    raise _build(empty, status, headers, context, request_id)
