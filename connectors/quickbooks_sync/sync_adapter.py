"""QuickBooks Online behind the neutral engine's `AccountingAdapter`: each operation delegates to the QBO
client and mappings that were already there, so the push keeps its requests and its figures.

Lookups of several entity types go in one batch of queries; writes go 30 to a batch request, and a record
or two as plain requests (they count against the realm's 500 requests a minute, not its 40 batch requests
a minute, which bulk pushes need).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
from connectors.quickbooks import mapping
from connectors.quickbooks.batch import BatchItem, BatchResult
from connectors.quickbooks.client import QuickBooksClient
from connectors.quickbooks.errors import DuplicateDocNumberError, DuplicateNameError, QuickBooksError
from connectors.quickbooks.query import select as qbo_select
from connectors.quickbooks.settings import QuickBooksSettings
from connectors.quickbooks_sync.specs import SPECS

__all__ = ["LOOKUP_CHUNK", "SMALL_LOOKUP", "WRITE_CHUNK", "QuickBooksSyncAdapter"]

LOOKUP_CHUNK = 40  # values per IN (...) query
WRITE_CHUNK = 30  # QBO's batch limit
SMALL_LOOKUP = 3  # up to this many queries go as plain requests rather than one batch


def _to_values(settings: QuickBooksSettings) -> dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]]:
    return {
        "customer": mapping.customer_to_contact_values,
        "invoice": lambda obj: mapping.qbo_invoice_to_values(obj, settings),
        "payment": lambda obj: mapping.qbo_payment_to_values(obj, settings),
        "expense": lambda obj: mapping.purchase_to_values(obj, settings),
    }


class QuickBooksSyncAdapter:
    """One QuickBooks connection (its client and settings) as an `AccountingAdapter`."""

    title = "QuickBooks"

    def __init__(self, client: QuickBooksClient, settings: QuickBooksSettings) -> None:
        self.client = client
        self.settings = settings

    # ------------------------------------------------------------------ mapping

    def to_external(self, entity_type: str, row: Any, refs: RefResolver) -> Document:
        return SPECS[entity_type].body(row, refs, self.settings)

    def from_external(self, entity_type: str, document: Mapping[str, Any]) -> dict[str, Any]:
        return _to_values(self.settings)[entity_type](document)

    # ------------------------------------------------------------------ reads

    def lookup(self, wanted: Mapping[str, Lookup], counter: RequestCounter) -> dict[str, Found]:
        items: list[BatchItem] = []
        for entity_type, want in wanted.items():
            spec = SPECS[entity_type]
            values = sorted(v for v in want.values if v) if spec.lookup_field else []
            for i in range(0, len(values), LOOKUP_CHUNK):
                query = qbo_select(spec.qbo_entity).where(
                    spec.lookup_field or "", "IN", values[i : i + LOOKUP_CHUNK]
                )
                items.append(BatchItem.select(f"{entity_type}-find-{i}", query))
            ids = sorted(want.ids)
            for i in range(0, len(ids), LOOKUP_CHUNK):
                query = qbo_select(spec.qbo_entity).where("Id", "IN", ids[i : i + LOOKUP_CHUNK])
                items.append(BatchItem.select(f"{entity_type}-read-{i}", query))
        out = {entity_type: Found() for entity_type in wanted}
        if not items:
            return out
        for res in self._batch(items, counter):
            if res.error is not None:
                raise res.error
            entity_type, kind, _ = res.bid.split("-", 2)
            spec = SPECS[entity_type]
            found = out[entity_type]
            for obj in res.rows():
                if kind == "find" and spec.lookup_field:
                    found.by_value.setdefault(str(obj.get(spec.lookup_field)), obj)
                else:
                    found.by_id[str(obj.get("Id"))] = obj
        return out

    def changes(self, entity_types: Sequence[str], since: datetime) -> list[Change]:
        names = {SPECS[t].qbo_entity: t for t in entity_types}
        feed = self.client.cdc(list(names), since)
        out: list[Change] = []
        for name, entity_type in names.items():
            out += [Change(entity_type, str(o.get("Id")), o) for o in feed.changed(name)]
            out += [Change(entity_type, str(o.get("Id")), o, deleted=True) for o in feed.deleted(name)]
        return out

    # ------------------------------------------------------------------ writes

    def write(self, entity_type: str, writes: Sequence[Write], counter: RequestCounter) -> list[WriteResult]:
        entity = SPECS[entity_type].qbo_entity
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
        return self.client.void(SPECS[entity_type].qbo_entity, external_id, version_token or "0", request_id)

    def delete(
        self, entity_type: str, external_id: str, version_token: str | None, request_id: str
    ) -> Document:
        return self.client.delete(
            SPECS[entity_type].qbo_entity, external_id, version_token or "0", request_id
        )

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
