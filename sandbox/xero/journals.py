"""Xero's Journals from the sandbox: the general-ledger journals posted changes write, read by
`GET /Journals?offset=N` (the journals numbered above N, oldest first, at most 100; `If-Modified-Since`
keeps those created since; `paymentsOnly=true` only payment journals), as Xero documents it.

What posts, as in Xero: an invoice that becomes AUTHORISED (or an authorised one whose amounts, date or
lines change: a reversal and a new posting, here one journal), an authorised invoice voided (its reversal);
a payment created or deleted; a bank transaction created, changed or deleted. Drafts, contacts and
everything else post nothing (Xero's webhooks cover contacts and drafts).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sandbox.xero.wire import ms_date

__all__ = ["PAGE", "PAYMENT_TYPES", "posting", "record", "select_journals"]

PAGE = 100
_POSTED = {"AUTHORISED", "PAID"}
PAYMENT_TYPES = frozenset(
    {"ACCRECPAYMENT", "ACCPAYPAYMENT", "ARCREDITPAYMENT", "APCREDITPAYMENT", "ARPREPAYMENT", "APPREPAYMENT"}
)
_BANK_TYPES = {"SPEND": "CASHPAID", "RECEIVE": "CASHREC", "SPEND-TRANSFER": "TRANSFER"}


def posting(resource: str, doc: Mapping[str, Any] | None) -> tuple[Any, ...] | None:
    """What of a document the ledger holds (None: nothing posted): a journal is written when it changes."""
    if doc is None:
        return None
    status = str(doc.get("Status") or "")
    if resource == "Invoices":
        if status not in _POSTED:
            return None
        lines = tuple(
            (str(li.get("AccountCode")), str(li.get("LineAmount")), str(li.get("TaxAmount")))
            for li in doc.get("LineItems") or []
        )
        return (str(doc.get("Total")), str(doc.get("Date")), str(doc.get("CurrencyCode")), lines)
    if resource in ("Payments", "BankTransactions"):
        if status in ("DELETED", "VOIDED", "DRAFT"):
            return None
        return (str(doc.get("Amount") or doc.get("Total")), str(doc.get("Date")))
    return None


def _source_type(resource: str, doc: Mapping[str, Any], invoice: Mapping[str, Any] | None) -> str:
    if resource == "Invoices":
        return str(doc.get("Type") or "ACCREC")
    if resource == "Payments":
        kind = str((invoice or {}).get("Type") or (doc.get("Invoice") or {}).get("Type") or "ACCREC")
        return "ACCPAYPAYMENT" if kind == "ACCPAY" else "ACCRECPAYMENT"
    return _BANK_TYPES.get(str(doc.get("Type") or "SPEND"), "CASHPAID")


_ID = {"Invoices": "InvoiceID", "Payments": "PaymentID", "BankTransactions": "BankTransactionID"}


def record(
    journals: list[dict[str, Any]],
    resource: str,
    before: tuple[Any, ...] | None,
    doc: Mapping[str, Any],
    now: datetime,
    invoice: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Append the journal a save of `doc` writes (its ledger posting went from `before` to now), if any."""
    after = posting(resource, doc)
    if resource not in _ID or after == before:
        return None
    amount = str(doc.get("Total") or doc.get("Amount") or "0")
    net = amount if after is not None else f"-{amount}"  # a reversal when nothing is posted any more
    other = net[1:] if net.startswith("-") else f"-{net}"
    journal = {
        "JournalID": str(uuid.uuid4()),
        "JournalDate": ms_date(now.date()),
        "JournalNumber": len(journals) + 1,
        "CreatedDateUTC": ms_date(now),
        "Reference": str(doc.get("InvoiceNumber") or doc.get("Reference") or ""),
        "SourceID": str(doc.get(_ID[resource]) or ""),
        "SourceType": _source_type(resource, doc, invoice),
        "JournalLines": [
            {"JournalLineID": str(uuid.uuid4()), "NetAmount": v, "GrossAmount": v, "TaxAmount": "0.00"}
            for v in (net, other)
        ],
        "_created": now,
    }
    journals.append(journal)
    return journal


def select_journals(
    journals: list[dict[str, Any]], params: Mapping[str, str], since: datetime | None
) -> list[dict[str, Any]]:
    """`GET /Journals`: the journals numbered above `offset`, created at or after `since`, 100 at most."""
    try:
        offset = int(params.get("offset") or 0)
    except ValueError as err:
        raise ValueError("offset must be a whole number") from err
    payments_only = str(params.get("paymentsOnly", "false")).lower() == "true"
    out: list[dict[str, Any]] = []
    for journal in journals[max(offset, 0) :]:  # numbered 1.. in order: index n holds number n + 1
        if payments_only and journal["SourceType"] not in PAYMENT_TYPES:
            continue
        if since is not None and journal["_created"] < since:
            continue
        out.append({k: v for k, v in journal.items() if not k.startswith("_")})
        if len(out) == PAGE:
            break
    return out
