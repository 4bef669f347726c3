"""A demo company's books, whichever accounting system keeps them (QuickBooks Online or Xero): what the
demo's later steps need from it, read and written through that system's own client: its invoices and
payments (for the independent check) and a bookkeeper's edits to invoices (for the pull)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from connectors.quickbooks.client import QuickBooksClient, make_request_id
from connectors.quickbooks.query import select as qbo_select
from connectors.xero.client import XeroClient
from connectors.xero.codec import parse_date
from connectors.xero.outcomes import BatchRecord, Saved
from sierra_sync.demo.world import QUICKBOOKS, XERO

__all__ = ["Books", "QuickBooksBooks", "RemoteInvoice", "XeroBooks", "open_books"]

MEMO = "Retention released: due date moved by 15 days (edited in {system})"
ENDED_IN_XERO = "DELETED"  # a deleted Xero document is gone from the books (a voided one stays, at 0)


def money(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else "0")).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class RemoteInvoice:
    """An invoice as the accounting system holds it."""

    number: str
    total: Decimal
    balance: Decimal


class Books(Protocol):
    """One company's accounting system, as the demo uses it."""

    system: str

    def invoices(self) -> dict[str, RemoteInvoice]:
        """Every sales invoice in the books, by the system's id."""
        ...

    def payments(self) -> dict[str, Decimal]:
        """Every customer payment's amount, by the system's id."""
        ...

    def edit_invoices(self, external_ids: Sequence[str], integration_id: uuid.UUID) -> int:
        """A memo and a due date 15 days later on these invoices; returns how many were changed."""
        ...


class QuickBooksBooks:
    system = QUICKBOOKS

    def __init__(self, client: QuickBooksClient) -> None:
        self.client = client

    def invoices(self) -> dict[str, RemoteInvoice]:
        return {
            str(r["Id"]): RemoteInvoice(
                str(r.get("DocNumber")), money(r.get("TotalAmt")), money(r.get("Balance"))
            )
            for r in self.client.query_all(qbo_select("Invoice"))
        }

    def payments(self) -> dict[str, Decimal]:
        return {str(r["Id"]): money(r.get("TotalAmt")) for r in self.client.query_all(qbo_select("Payment"))}

    def edit_invoices(self, external_ids: Sequence[str], integration_id: uuid.UUID) -> int:
        changed = 0
        for qbo_id in external_ids:
            current = self.client.read("Invoice", qbo_id)
            due = date.fromisoformat(str(current.get("DueDate") or current["TxnDate"])) + timedelta(days=15)
            body = {
                "Id": current["Id"],
                "SyncToken": current["SyncToken"],
                "CustomerMemo": {"value": MEMO.format(system=self.system)},
                "DueDate": due.isoformat(),
            }
            rid = make_request_id(str(integration_id), "demo-edit", qbo_id, str(current["SyncToken"]))
            self.client.update("Invoice", body, rid)
            changed += 1
        return changed


class XeroBooks:
    """Xero allows 60 calls a minute per organisation: reads are lists (100 a page), the edits one batch."""

    system = XERO

    def __init__(self, client: XeroClient) -> None:
        self.client = client

    def invoices(self) -> dict[str, RemoteInvoice]:
        return {
            str(d["InvoiceID"]): RemoteInvoice(
                str(d.get("InvoiceNumber")), money(d.get("Total")), money(d.get("AmountDue"))
            )
            for d in self.client.pull("Invoices", where='Type=="ACCREC"')
            if d.get("Status") != ENDED_IN_XERO
        }

    def payments(self) -> dict[str, Decimal]:
        return {
            str(d["PaymentID"]): money(d.get("Amount"))
            for d in self.client.pull("Payments")
            if d.get("Status") != ENDED_IN_XERO
        }

    def edit_invoices(self, external_ids: Sequence[str], integration_id: uuid.UUID) -> int:
        if not external_ids:
            return 0
        current = list(self.client.pull("Invoices", params={"IDs": ",".join(external_ids)}))
        records = []
        for doc in current:
            issued = parse_date(doc.get("DateString") or doc.get("Date"))
            due = parse_date(doc.get("DueDateString") or doc.get("DueDate")) or issued
            if due is None:
                continue
            payload = {
                "InvoiceID": doc["InvoiceID"],
                "Reference": MEMO.format(system=self.system),
                "DueDate": (due + timedelta(days=15)).isoformat(),
            }
            records.append(
                BatchRecord(
                    f"demo-edit:{integration_id}:{doc['InvoiceID']}", payload, str(doc.get("UpdatedDateUTC"))
                )
            )
        outcomes = self.client.save("Invoices", records)
        return sum(1 for o in outcomes if isinstance(o, Saved))


@contextmanager
def open_books(system: str, company_id: uuid.UUID) -> Iterator[Books]:
    """The company's books through its stored connection (tokens refreshed, its system's budget shared)."""
    if system == XERO:
        from tasks.xero import xero_company

        with xero_company(company_id) as xc:
            yield XeroBooks(xc.client)
        return
    from tasks.runtime import company_sync

    with company_sync(company_id) as cs:
        yield QuickBooksBooks(cs.client)
