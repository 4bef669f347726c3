"""QuickBooks Online behind the neutral engine's `AccountingAdapter`: each operation delegates to the QBO
client and mappings that were already there, so the push keeps its requests and its figures.

Lookups of several entity types go in one batch of queries; writes go 30 to a batch request, and a record
or two as plain requests (they count against the realm's 500 requests a minute, not its 40 batch requests
a minute, which bulk pushes need).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.accounting.adapter import (
    Change,
    ChangeFeed,
    DocMeta,
    Document,
    ErrorKind,
    Found,
    Lookup,
    RefResolver,
    RequestCounter,
    Write,
    WriteResult,
)
from connectors.quickbooks import mapping
from connectors.quickbooks.batch import BatchItem, BatchResult
from connectors.quickbooks.client import QuickBooksClient
from connectors.quickbooks.errors import DuplicateDocNumberError, DuplicateNameError, QuickBooksError
from connectors.quickbooks.query import select as qbo_select
from connectors.quickbooks.settings import QuickBooksSettings
from sierra_core.db.models import Invoice, Payment

__all__ = ["LOOKUP_CHUNK", "QBO", "SMALL_LOOKUP", "WRITE_CHUNK", "QboType", "QuickBooksSyncAdapter"]

LOOKUP_CHUNK = 40  # values per IN (...) query
WRITE_CHUNK = 30  # QBO's batch limit
SMALL_LOOKUP = 3  # up to this many queries go as plain requests rather than one batch


@dataclass(frozen=True)
class QboType:
    """An app entity type at QuickBooks: its entity, the find-before-create field and the app row's value
    for it, and the mapping of a row given the QBO ids of what it depends on."""

    entity: str
    lookup_field: str | None
    lookup_value: Callable[[Any], str | None]
    body: Callable[[Any, RefResolver, QuickBooksSettings], dict[str, Any]]


def _invoice_body(row: Invoice, deps: RefResolver, settings: QuickBooksSettings) -> dict[str, Any]:
    label = f"Invoice #{row.invoice_number}"
    refs = mapping.InvoiceRefs(customer_id=deps.customer(label, row.customer_id))
    return mapping.invoice_to_qbo(row, refs, settings)


def _payment_body(row: Payment, deps: RefResolver, settings: QuickBooksSettings) -> dict[str, Any]:
    ref = mapping.payment_ref_num(row)
    label = f"Payment {ref}" if ref else f"Payment of {row.amount} on {row.payment_date}"
    refs = mapping.PaymentRefs(
        customer_id=deps.customer(label, row.customer_id), invoice_id=deps.invoice(label, row.invoice_id)
    )
    return mapping.payment_to_qbo(row, refs, settings)


QBO: dict[str, QboType] = {
    "customer": QboType(
        "Customer",
        "DisplayName",
        lambda row: row.display_name,
        lambda row, deps, settings: mapping.contact_to_customer(row),
    ),
    "invoice": QboType("Invoice", "DocNumber", lambda row: row.invoice_number, _invoice_body),
    "payment": QboType("Payment", "PaymentRefNum", mapping.payment_ref_num, _payment_body),
    "expense": QboType(
        "Purchase",
        "DocNumber",
        mapping.expense_doc_number,
        lambda row, deps, settings: mapping.expense_to_purchase(row, mapping.ExpenseRefs(), settings),
    ),
}


class QuickBooksSyncAdapter:
    """One QuickBooks connection (its client and settings) as an `AccountingAdapter`."""

    title = "QuickBooks"
    event_id_field = "quickbooks_id"
    missing_code = "qbo_record_missing"
    write_chunk = WRITE_CHUNK
    pipelined_writes = False  # one request after the other, as the push always sent them
    splits_payments = True  # a Payment's Line[] may pay several invoices

    def __init__(self, client: QuickBooksClient, settings: QuickBooksSettings) -> None:
        self.client = client
        self.settings = settings

    # ------------------------------------------------------------------ mapping

    def entity_name(self, entity_type: str) -> str:
        return QBO[entity_type].entity

    def lookup_value(self, entity_type: str, row: Any) -> str | None:
        spec = QBO[entity_type]
        return spec.lookup_value(row) if spec.lookup_field else None

    def duplicate_code(self, entity_type: str) -> str:
        return "6240" if entity_type == "customer" else "6140"

    def to_external(self, entity_type: str, row: Any, refs: RefResolver) -> Document:
        return QBO[entity_type].body(row, refs, self.settings)

    def from_external(
        self, entity_type: str, document: Mapping[str, Any], current: Any = None
    ) -> dict[str, Any]:
        if entity_type == "customer":
            return mapping.customer_to_contact_values(document)
        if entity_type == "invoice":
            values = mapping.qbo_invoice_to_values(document, self.settings, current=current)
            if (
                values.get("terms") is None
                and current is not None
                and current.terms not in self.settings.terms
            ):
                values.pop("terms", None)  # unmapped app terms never reach QBO: its silence is not a change
            return values
        if entity_type == "payment":
            return mapping.qbo_payment_to_values(document, self.settings, current=current)
        return mapping.purchase_to_values(document, self.settings, current=current)

    def meta(self, entity_type: str, document: Mapping[str, Any]) -> DocMeta:
        if document.get("Id") in (None, ""):
            token = document.get("SyncToken")
            return DocMeta("", None if token is None else str(token), None)
        meta = mapping.qbo_meta(document)
        return DocMeta(
            meta.id,
            meta.sync_token,
            meta.last_updated,
            deleted=mapping.is_deleted(document),
            voided=mapping.is_voided(document),
        )

    def sparse_update(
        self, entity_type: str, body: Mapping[str, Any], current: Mapping[str, Any]
    ) -> Document | None:
        update = mapping.sparse_update(
            body, qbo_id=str(current["Id"]), sync_token=str(current["SyncToken"]), current=current
        )
        return update if mapping.has_changes(update) else None

    def describe(self, entity_type: str, document: Mapping[str, Any]) -> str:
        if entity_type == "customer" and document.get("DisplayName"):
            return f"Customer '{document['DisplayName']}'"
        if entity_type == "invoice" and document.get("DocNumber"):
            return f"Invoice #{document['DocNumber']}"
        return f"QuickBooks {QBO[entity_type].entity} {document.get('Id')}"

    def reference(self, entity_type: str, document: Mapping[str, Any], to: str) -> str | None:
        return mapping.ref_value(document, {"customer": "CustomerRef", "invoice": "InvoiceRef"}[to])

    def payment_parts(self, document: Mapping[str, Any]) -> list[tuple[str | None, Decimal]]:
        """One part per invoice the payment pays, plus any unapplied remainder."""
        zero = Decimal("0.00")
        applied: dict[str, Decimal] = {}
        for inv, amount in mapping.payment_applications(document):
            applied[inv] = applied.get(inv, zero) + amount
        total = mapping.money(document.get("TotalAmt", 0), "TotalAmt")
        parts: list[tuple[str | None, Decimal]] = [(inv, amt) for inv, amt in applied.items() if amt > 0]
        rest = total - sum(applied.values(), zero)
        if rest > 0 or not parts:
            parts.append((None, rest if parts else total))
        return parts

    # ------------------------------------------------------------------ reads

    def lookup(self, wanted: Mapping[str, Lookup], counter: RequestCounter) -> dict[str, Found]:
        items: list[BatchItem] = []
        for entity_type, want in wanted.items():
            spec = QBO[entity_type]
            values = sorted(v for v in want.values if v) if spec.lookup_field else []
            for i in range(0, len(values), LOOKUP_CHUNK):
                query = qbo_select(spec.entity).where(
                    spec.lookup_field or "", "IN", values[i : i + LOOKUP_CHUNK]
                )
                items.append(BatchItem.select(f"{entity_type}-find-{i}", query))
            ids = sorted(want.ids)
            for i in range(0, len(ids), LOOKUP_CHUNK):
                query = qbo_select(spec.entity).where("Id", "IN", ids[i : i + LOOKUP_CHUNK])
                items.append(BatchItem.select(f"{entity_type}-read-{i}", query))
        out = {entity_type: Found() for entity_type in wanted}
        if not items:
            return out
        for res in self._batch(items, counter):
            if res.error is not None:
                raise res.error
            entity_type, kind, _ = res.bid.split("-", 2)
            spec = QBO[entity_type]
            found = out[entity_type]
            for obj in res.rows():
                if kind == "find" and spec.lookup_field:
                    found.by_value.setdefault(str(obj.get(spec.lookup_field)), obj)
                else:
                    found.by_id[str(obj.get("Id"))] = obj
        return out

    def read(self, entity_type: str, external_id: str) -> Document:
        return self.client.read(QBO[entity_type].entity, external_id)

    def changes(
        self, entity_types: Sequence[str], since: datetime, *, now: datetime, max_objects: int = 1000
    ) -> ChangeFeed:
        """One CDC read (QBO's client falls back to LastUpdatedTime queries past its 30 days)."""
        names = {QBO[t].entity: t for t in entity_types}
        feed = self.client.cdc(list(names), since, now=now, max_objects=max_objects)
        out: list[Change] = []
        for name, entity_type in names.items():
            out += [Change(entity_type, str(o.get("Id")), o) for o in feed.changed(name)]
            out += [Change(entity_type, str(o.get("Id")), o, deleted=True) for o in feed.deleted(name)]
        return ChangeFeed(out, feed.as_of, deletes_complete=feed.deletes_complete, requests=feed.requests)

    # ------------------------------------------------------------------ writes

    def write(self, entity_type: str, writes: Sequence[Write], counter: RequestCounter) -> list[WriteResult]:
        entity = QBO[entity_type].entity
        items = [
            BatchItem.create(f"w{i}", entity, w.body, request_id=w.request_id)
            if w.action == "create"
            else BatchItem.update(f"w{i}", entity, w.body, request_id=w.request_id)
            for i, w in enumerate(writes)
        ]
        return [
            WriteResult(w.key, document=res.entity, error=res.error)
            for w, res in zip(writes, self._batch(items, counter), strict=True)
        ]

    def void(
        self, entity_type: str, external_id: str, version_token: str | None, request_id: str
    ) -> Document:
        return self.client.void(QBO[entity_type].entity, external_id, version_token or "0", request_id)

    def delete(
        self, entity_type: str, external_id: str, version_token: str | None, request_id: str
    ) -> Document:
        return self.client.delete(QBO[entity_type].entity, external_id, version_token or "0", request_id)

    # ------------------------------------------------------------------ errors and budgets

    def classify(self, error: Exception) -> ErrorKind:
        if isinstance(error, QuickBooksError):
            duplicate = isinstance(error, DuplicateDocNumberError | DuplicateNameError)
            return ErrorKind(code=str(error.code), retryable=error.retryable, duplicate=duplicate)
        return ErrorKind(code=getattr(error, "code", None) or "unclassified", retryable=False)

    def remaining_budget(self) -> int | None:
        return None  # QBO limits per minute; the client's limiter paces requests, nothing is spent per day

    # ------------------------------------------------------------------ requests

    def _batch(self, items: list[BatchItem], counter: RequestCounter) -> list[BatchResult]:
        small_lookup = len(items) <= SMALL_LOOKUP and all(i.operation == "query" for i in items)
        if len(items) == 1 or small_lookup:
            return [self._single(item, counter) for item in items]
        counter.batch_requests += (len(items) + WRITE_CHUNK - 1) // WRITE_CHUNK
        return self.client.batch(items)

    def _single(self, item: BatchItem, counter: RequestCounter) -> BatchResult:
        """One batch item sent as a plain request, answered in the batch's shape."""
        counter.single_requests += 1
        if item.operation == "query":
            return BatchResult(item, query_response=self.client.query(item.query or ""))
        if item.entity is None or item.body is None or item.request_id is None:
            raise ValueError(f"batch item {item.bid}: a write needs an entity, a body and a request id")
        try:
            if item.operation == "create":
                obj = self.client.create(item.entity, item.body, item.request_id)
            else:
                obj = self.client.update(item.entity, item.body, item.request_id)
        except QuickBooksError as err:
            return BatchResult(item, error=err)  # like a batch item's fault: this record fails alone
        return BatchResult(item, entity=obj)
