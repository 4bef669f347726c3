"""The QBO faults the sandbox answers, with Intuit's exact messages and details."""

from __future__ import annotations

from sandbox.quickbooks.wire import QboFault

__all__ = [
    "business",
    "dup_docnumber",
    "dup_name",
    "invalid_property",
    "not_found",
    "query_parse",
    "query_validation",
    "required",
    "stale",
    "unsupported",
]


def required(element: str) -> QboFault:
    """2020: a required field is missing (`element` is its path, e.g. `Line.DetailType`)."""
    return QboFault(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {element} is missing in the request",
        element,
    )


def not_found() -> QboFault:
    """610: the object does not exist, was deleted, or a reference points at an inactive one."""
    return QboFault(
        "610",
        "Object Not Found",
        "Object Not Found : Something you're trying to use has been made inactive. "
        "Check the fields with accounts, customers, items, vendors or employees.",
        "",
    )


def stale(user: str = "Sandbox User") -> QboFault:
    """5010: the SyncToken sent is not the current one."""
    return QboFault(
        "5010",
        "Stale Object Error",
        f"Stale Object Error : You and {user} were working on this at the same time. "
        f"{user} finished before you did, so your work was not saved.",
        "",
    )


def dup_name() -> QboFault:
    """6240: another customer, vendor or employee (or item, account, class) already has this name."""
    return QboFault(
        "6240",
        "Duplicate Name Exists Error",
        "The name supplied already exists. : Another customer, vendor or employee is already using this "
        "name. Please use a different name.",
        "",
    )


def dup_docnumber(doc_number: str, txn_type: str, txn_id: str) -> QboFault:
    """6140: the DocNumber is already used by another transaction of this type."""
    return QboFault(
        "6140",
        "Duplicate Document Number Error",
        "Duplicate Document Number Error : You must specify a different number. This number has already been "
        f"used. DocNumber={doc_number} is assigned to TxnType={txn_type} with TxnId={txn_id}",
        "",
    )


def business(detail: str) -> QboFault:
    """6000: a business rule refused the request."""
    return QboFault(
        "6000",
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
        "",
    )


def unsupported(what: str) -> QboFault:
    """500 (as a ValidationFault code, HTTP 400): an operation or resource the entity does not support."""
    return QboFault("500", "Unsupported Operation", f"Operation {what} is not supported.", "")


def invalid_property(detail: str) -> QboFault:
    """2010: a malformed body or property."""
    return QboFault("2010", "Request has invalid or unsupported property", detail, "")


def query_parse(detail: str) -> QboFault:
    """4000: the query does not parse (the capture has no `element` key)."""
    return QboFault("4000", "Error parsing query", f"QueryParserError: {detail}", None)


def query_validation(detail: str) -> QboFault:
    """4001: the query parses but names an unknown entity or property."""
    return QboFault("4001", "Invalid query", f"QueryValidationError: {detail}", None)
