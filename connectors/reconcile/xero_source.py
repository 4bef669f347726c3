"""Xero as the accounting side of a reconciliation: sales invoices (Invoices, Type ACCREC), Payments,
expenses (BankTransactions, Type SPEND) and the Contacts they name, read through the Xero client (paged 100
at a time) into the accounting frame of `frames` (the same columns QuickBooks fills), money in integer cents.

The period selects documents by their Xero `Date`: the list reads ask Xero for the type and the period
(`where` Type=="ACCREC" && Date >= DateTime(2026, 10, 01) && Date <= DateTime(2026, 10, 31)), and the dates
are checked again here. Linked documents the period left out are read
by id, so a document whose date moved is still compared. VOIDED and DELETED documents are returned by Xero
with their status: they count as voided (the app's void, a deleted draft, a reversed payment), never as
missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any, Protocol

import pandas as pd

from connectors.reconcile.frames import QBO_COLUMNS, cents, frame
from connectors.xero.codec import parse_date
from connectors.xero.errors import NotFoundError

__all__ = ["ENDED", "XERO_NAMES", "XeroReader", "load_xero", "reference", "xero_row"]

ENDED = frozenset({"VOIDED", "DELETED"})
XERO_NAMES = {
    "customer": "Contact",
    "invoice": "Invoice",
    "payment": "Payment",
    "expense": "BankTransaction",
    "payout": "BankTransfer",
}
IDS_CHUNK = 50  # ids per `IDs=` read (Contacts and Invoices take IDs; the others are read one by one)
REFERENCE_LIMIT = 255
EARLIEST = date(1900, 1, 1)  # Xero's DateTime(...) takes four-digit years


class XeroReader(Protocol):
    def pull(
        self,
        resource: str,
        *,
        where: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Iterator[dict[str, Any]]: ...

    def get(self, resource: str, xero_id: str) -> dict[str, Any]: ...


def reference(value: str | None) -> str | None:
    """The Reference sierra-sync sends for a payment or an expense: its reference number (Xero keeps 255
    characters)."""
    text = (value or "").strip()
    return text[:REFERENCE_LIMIT] or None


def _cents(value: Any) -> int:
    if value is None or value == "":
        return 0
    return cents(str(value)) or 0


def _contact_id(doc: Mapping[str, Any]) -> str | None:
    contact = doc.get("Contact")
    if isinstance(contact, Mapping) and contact.get("ContactID"):
        return str(contact["ContactID"])
    invoice = doc.get("Invoice")
    if isinstance(invoice, Mapping):
        return _contact_id(invoice)
    return None


def xero_row(entity_type: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    """One Xero document as a row of the accounting frame."""
    status = str(doc.get("Status") or "")
    if entity_type == "customer":
        return {
            "entity_type": "customer",
            "external_id": str(doc["ContactID"]),
            "number": doc.get("Name"),
            "amount": 0,
            "voided": False,
            "sync_token": str(doc.get("UpdatedDateUTC") or ""),
        }
    row: dict[str, Any] = {
        "entity_type": entity_type,
        "voided": status in ENDED,
        "sync_token": str(doc.get("UpdatedDateUTC") or ""),
    }
    if entity_type == "invoice":
        row.update(
            external_id=str(doc["InvoiceID"]),
            number=doc.get("InvoiceNumber") or None,
            amount=_cents(doc.get("Total")),
            balance=_cents(doc.get("AmountDue")),
        )
    elif entity_type == "payment":
        row.update(
            external_id=str(doc["PaymentID"]),
            number=reference(doc.get("Reference")),
            amount=_cents(doc.get("Amount")),
        )
    elif entity_type == "expense":
        row.update(
            external_id=str(doc["BankTransactionID"]),
            number=reference(doc.get("Reference")),
            amount=_cents(doc.get("Total")),
        )
    else:
        raise ValueError(f"{entity_type!r} is not reconciled against Xero")
    return row


_LISTS = {
    "invoice": ("Invoices", "InvoiceID", 'Type=="ACCREC"'),
    "payment": ("Payments", "PaymentID", None),
    "expense": ("BankTransactions", "BankTransactionID", 'Type=="SPEND"'),
}
_BY_IDS = frozenset({"Invoices", "Contacts"})


def _where(kind: str | None, start: date, end: date) -> str:
    def day(d: date) -> str:
        return f"DateTime({d.year}, {d.month:02d}, {d.day:02d})"

    period = f"Date >= {day(max(start, EARLIEST))} && Date <= {day(end)}"
    return f"{kind} && {period}" if kind else period


def _in_period(doc: Mapping[str, Any], start: date, end: date) -> bool:
    when = parse_date(doc.get("DateString") or doc.get("Date"))
    return when is not None and start <= when <= end


def _chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for at in range(0, len(values), size):
        yield values[at : at + size]


def _by_ids(client: XeroReader, resource: str, ids: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The documents of `ids` that exist (a missing one is simply not returned)."""
    wanted = sorted(set(ids))
    if resource in _BY_IDS:
        for chunk in _chunks(wanted, IDS_CHUNK):
            yield from client.pull(resource, params={"IDs": ",".join(chunk)})
        return
    for xero_id in wanted:
        try:
            yield client.get(resource, xero_id)
        except NotFoundError:
            continue


def load_xero(client: XeroReader, start: date, end: date, *, linked: dict[str, set[str]]) -> pd.DataFrame:
    """Xero's sales invoices, payments and SPEND bank transactions dated in the period, the linked ones the
    period left out (read by id), and the contacts either side names."""
    rows: list[dict[str, Any]] = []
    contacts: set[str] = set(linked.get("customer", set()))
    for entity_type, (resource, id_field, where) in _LISTS.items():
        listed = client.pull(resource, where=_where(where, start, end))
        docs = {str(doc[id_field]): doc for doc in listed if _in_period(doc, start, end)}
        missing = set(linked.get(entity_type, set())) - set(docs)
        for doc in _by_ids(client, resource, missing):
            docs.setdefault(str(doc[id_field]), doc)
        for doc in docs.values():
            if entity_type == "invoice" and doc.get("Type") not in (None, "ACCREC"):
                continue  # a linked id that is a bill: not a sales invoice
            rows.append(xero_row(entity_type, doc))
            if entity_type != "expense":  # expenses name vendors; the app reconciles customers
                contact = _contact_id(doc)
                if contact:
                    contacts.add(contact)
    rows += [xero_row("customer", doc) for doc in _by_ids(client, "Contacts", contacts)]
    return frame(rows, QBO_COLUMNS)
