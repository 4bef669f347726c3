"""Xero behind the neutral engine's `AccountingAdapter` (a skeleton: mapping, lookups, batch saves, voids,
the change feed, error classification and the daily budget, over `connectors.xero`'s client).

App entity -> Xero resource: customer -> Contacts (found by Name), invoice -> Invoices (by InvoiceNumber),
payment -> Payments (no natural key: always created; undone by deleting), expense -> BankTransactions
(SPEND, by Reference). A spent daily allowance is never a failure: the records wait until `resume_at`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.accounting.adapter import (
    Change,
    Document,
    ErrorKind,
    Found,
    Lookup,
    RefResolver,
    RequestCounter,
    Write,
    WriteResult,
)
from connectors.xero import mapping
from connectors.xero.client import BATCH_SIZE, XeroClient
from connectors.xero.errors import DailyLimitError, ValidationError, XeroError
from connectors.xero.outcomes import BatchRecord, DailyBudgetExhausted, Rejected
from connectors.xero.settings import XeroSettings

__all__ = ["LOOKUP_CHUNK", "RESOURCES", "Resource", "XeroSyncAdapter"]

LOOKUP_CHUNK = 40  # conditions per `where`


@dataclass(frozen=True)
class Resource:
    name: str  # the Accounting API collection
    id_field: str
    key_field: str | None  # the natural key looked up before a create


RESOURCES = {
    "customer": Resource("Contacts", "ContactID", "Name"),
    "invoice": Resource("Invoices", "InvoiceID", "InvoiceNumber"),
    "payment": Resource("Payments", "PaymentID", None),
    "expense": Resource("BankTransactions", "BankTransactionID", "Reference"),
}


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class XeroSyncAdapter:
    """One Xero organisation (its client and settings) as an `AccountingAdapter`."""

    title = "Xero"

    def __init__(self, client: XeroClient, settings: XeroSettings) -> None:
        self.client = client
        self.settings = settings

    # ------------------------------------------------------------------ mapping

    def to_external(self, entity_type: str, row: Any, refs: RefResolver) -> Document:
        if entity_type == "customer":
            return mapping.contact_to_xero(row)
        if entity_type == "invoice":
            label = f"Invoice #{row.invoice_number}"
            return mapping.invoice_to_xero(row, refs.customer(label, row.customer_id), self.settings)
        if entity_type == "payment":
            label = f"Payment of {row.amount} on {row.payment_date}"
            invoice_id = refs.invoice(label, row.invoice_id)
            if invoice_id is None:
                raise mapping.MappingError(
                    f"Xero sync failed: {label} pays no invoice; Xero records a payment only against an "
                    "invoice. Choose its invoice in the app, then run replay-failed for this company.",
                    code="missing_invoice",
                )
            return mapping.payment_to_xero(row, invoice_id, self.settings)
        if entity_type == "expense":
            return mapping.expense_to_xero(row, self.settings)
        raise ValueError(f"Xero has no mapping for entity type {entity_type!r}")

    def from_external(self, entity_type: str, document: Mapping[str, Any]) -> dict[str, Any]:
        readers: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
            "customer": mapping.contact_from_xero,
            "invoice": mapping.invoice_from_xero,
            "payment": mapping.payment_from_xero,
        }
        if entity_type not in readers:
            raise ValueError(f"Xero documents of entity type {entity_type!r} are not read into the app")
        return readers[entity_type](document)

    # ------------------------------------------------------------------ reads

    def lookup(self, wanted: Mapping[str, Lookup], counter: RequestCounter) -> dict[str, Found]:
        out: dict[str, Found] = {}
        for entity_type, want in wanted.items():
            res = RESOURCES[entity_type]
            found = out.setdefault(entity_type, Found())
            values = sorted(want.values) if res.key_field else []
            for i in range(0, len(values), LOOKUP_CHUNK):
                where = " OR ".join(f"{res.key_field}=={_quoted(v)}" for v in values[i : i + LOOKUP_CHUNK])
                for doc in self._pull(res, counter, where=where):
                    found.by_value.setdefault(str(doc.get(res.key_field or "")), doc)
            ids = sorted(want.ids)
            for i in range(0, len(ids), LOOKUP_CHUNK):
                where = " OR ".join(f"{res.id_field}==Guid({_quoted(x)})" for x in ids[i : i + LOOKUP_CHUNK])
                for doc in self._pull(res, counter, where=where):
                    found.by_id[str(doc.get(res.id_field))] = doc
        return out

    def _pull(self, res: Resource, counter: RequestCounter, *, where: str) -> list[dict[str, Any]]:
        counter.single_requests += 1  # one call per lookup (a page past the first costs one more)
        return list(self.client.pull(res.name, where=where))

    def changes(self, entity_types: Sequence[str], since: datetime) -> list[Change]:
        out: list[Change] = []
        for entity_type in entity_types:
            res = RESOURCES[entity_type]
            for doc in self.client.pull(res.name, modified_since=since):
                deleted = doc.get("Status") == "DELETED"
                out.append(Change(entity_type, str(doc.get(res.id_field)), doc, deleted=deleted))
        return out

    # ------------------------------------------------------------------ writes

    def write(self, entity_type: str, writes: Sequence[Write], counter: RequestCounter) -> list[WriteResult]:
        res = RESOURCES[entity_type]
        records = [BatchRecord(w.key, w.body, w.request_id) for w in writes]
        counter.batch_requests += (len(records) + BATCH_SIZE - 1) // BATCH_SIZE
        results: list[WriteResult] = []
        for outcome in self.client.save(res.name, records):
            if isinstance(outcome, Rejected):
                error: XeroError = ValidationError(
                    f"Xero refused it: {'; '.join(outcome.messages)}", code=outcome.code
                )
                results.append(WriteResult(outcome.key, error=error))
            elif isinstance(outcome, DailyBudgetExhausted):
                error = DailyLimitError(outcome.message, resume_at=outcome.resume_at, problem="day")
                results.append(WriteResult(outcome.key, error=error))
            else:
                results.append(WriteResult(outcome.key, document=outcome.document))
        return results

    def void(
        self, entity_type: str, external_id: str, version_token: str | None, request_id: str
    ) -> Document:
        if entity_type == "invoice":
            return self.client.void_invoice(self.client.get("Invoices", external_id), request_id)
        if entity_type == "payment":
            return self.client.delete_payment(external_id, request_id)
        raise ValueError(f"Xero cannot void a {entity_type}; change or delete it in Xero")

    def delete(
        self, entity_type: str, external_id: str, version_token: str | None, request_id: str
    ) -> Document:
        if entity_type == "payment":
            return self.client.delete_payment(external_id, request_id)
        if entity_type == "invoice":  # a draft invoice is deleted, an authorised one voided
            return self.void(entity_type, external_id, version_token, request_id)
        raise ValueError(f"Xero does not delete a {entity_type} through the API; archive it in Xero")

    # ------------------------------------------------------------------ errors and budgets

    def classify(self, error: Exception) -> ErrorKind:
        if not isinstance(error, XeroError):
            return ErrorKind(code=getattr(error, "code", None) or "unclassified", retryable=False)
        text = str(error).lower()
        duplicate = isinstance(error, ValidationError) and ("must be unique" in text or "already" in text)
        resumes = error.resume_at if isinstance(error, DailyLimitError) else None
        return ErrorKind(
            code=str(error.code), retryable=error.retryable, duplicate=duplicate, budget_resumes_at=resumes
        )

    def remaining_budget(self) -> int | None:
        """Calls left today for the organisation (Xero's X-DayLimit-Remaining), 0 once the day is spent."""
        if self.client.resume_at is not None and self.client.clock() < self.client.resume_at:
            return 0
        return self.client.remaining.day if self.client.remaining is not None else None
