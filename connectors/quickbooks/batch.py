"""QBO batch requests: up to 30 independent operations per `POST /batch`, one result per item.

Items are independent and unordered at QBO (one cannot use what another creates) and each may fail alone:
a failed item gets its `Fault` classified into a `QuickBooksError` *object* on its `BatchResult` (not
raised), so one bad invoice does not hide the 29 that went through.

    items = [BatchItem.create("inv-1", "Invoice", body, request_id=rid), BatchItem.query("q", select("Item"))]
    for result in client.batch(items):
        if result.error: ... else: result.entity / result.rows()
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.quickbooks.classify import error_from_fault
from connectors.quickbooks.errors import QuickBooksError, ServerError
from connectors.quickbooks.query import Select, result_rows

__all__ = [
    "MAX_BATCH_ITEMS",
    "BatchItem",
    "BatchResult",
    "chunk_request_id",
    "chunks",
    "parse_response",
    "request_body",
]

MAX_BATCH_ITEMS = 30
_WRITE_OPERATIONS = frozenset({"create", "update", "delete"})
_NAMESPACE = uuid.UUID("0b9a4c61-8a0e-5d52-bc1f-7e3f4a2d9c08")


@dataclass(frozen=True)
class BatchItem:
    """One batch operation: `create`/`update`/`delete` of `entity` with `body`, or a `query`.

    Write items carry their own deterministic `request_id` (see `make_request_id`); the chunk's requestid
    is derived from them, so a retried chunk with the same items is replayed by QBO, not re-applied.
    """

    bid: str
    operation: str
    entity: str | None = None
    body: Mapping[str, Any] | None = None
    query: str | None = None
    request_id: str | None = None

    @classmethod
    def create(cls, bid: str, entity: str, body: Mapping[str, Any], *, request_id: str) -> BatchItem:
        """Create `entity` from `body`."""
        return cls(bid, "create", entity, body, request_id=request_id)

    @classmethod
    def update(
        cls, bid: str, entity: str, body: Mapping[str, Any], *, request_id: str, sparse: bool = True
    ) -> BatchItem:
        """Update `entity` (`body` carries Id and SyncToken; sparse by default)."""
        if not body.get("Id") or body.get("SyncToken") is None:
            raise ValueError(f"batch update {entity}: the body needs Id and SyncToken")
        return cls(bid, "update", entity, {**body, "sparse": sparse}, request_id=request_id)

    @classmethod
    def delete(cls, bid: str, entity: str, entity_id: str, sync_token: str, *, request_id: str) -> BatchItem:
        """Delete `entity` `entity_id` at `sync_token`."""
        return cls(bid, "delete", entity, {"Id": entity_id, "SyncToken": sync_token}, request_id=request_id)

    @classmethod
    def select(cls, bid: str, query: Select | str) -> BatchItem:
        """Run a query (a `Select`, rendered with MAXRESULTS 1000, or ready text)."""
        text = query.render(start=1, max_results=1000) if isinstance(query, Select) else query
        entity = query.entity if isinstance(query, Select) else None
        return cls(bid, "query", entity, query=text)

    def to_json(self) -> dict[str, Any]:
        """The `BatchItemRequest` entry."""
        if self.operation == "query":
            return {"bId": self.bid, "Query": self.query}
        assert self.entity is not None
        assert self.body is not None
        return {"bId": self.bid, "operation": self.operation, self.entity: dict(self.body)}

    def validate(self) -> None:
        """ValueError when the item cannot be sent."""
        if not self.bid:
            raise ValueError("every batch item needs a bId")
        if self.operation == "query":
            if not self.query:
                raise ValueError(f"batch item {self.bid}: a query item needs the query text")
            return
        if self.operation not in _WRITE_OPERATIONS:
            raise ValueError(f"batch item {self.bid}: operation must be create, update, delete or query")
        if not self.entity or self.body is None:
            raise ValueError(f"batch item {self.bid}: {self.operation} needs an entity and a body")
        if not self.request_id:
            raise ValueError(f"batch item {self.bid}: every write needs a request_id (make_request_id)")


@dataclass
class BatchResult:
    """What QBO answered for one item: the object, a `QueryResponse`, or the classified error."""

    item: BatchItem
    entity: dict[str, Any] | None = None
    query_response: dict[str, Any] | None = None
    error: QuickBooksError | None = field(default=None)

    @property
    def bid(self) -> str:
        """The item's bId."""
        return self.item.bid

    @property
    def ok(self) -> bool:
        """True when the item succeeded."""
        return self.error is None

    def rows(self) -> list[dict[str, Any]]:
        """A query item's rows (`[]` when nothing matched)."""
        return result_rows(self.query_response or {}, self.item.entity or "")


def chunks(items: Sequence[BatchItem], size: int = MAX_BATCH_ITEMS) -> Iterator[list[BatchItem]]:
    """Validate `items` (unique bIds) and split them into requests of at most `size` (≤ 30)."""
    if not 1 <= size <= MAX_BATCH_ITEMS:
        raise ValueError(f"a QBO batch holds 1..{MAX_BATCH_ITEMS} items")
    seen: set[str] = set()
    for item in items:
        item.validate()
        if item.bid in seen:
            raise ValueError(f"batch bId {item.bid!r} is used twice")
        seen.add(item.bid)
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def chunk_request_id(chunk: Sequence[BatchItem], request_id: str | None, index: int) -> str | None:
    """A deterministic requestid (36 chars) for one chunk; None for a chunk of queries only (no writes)."""
    if request_id is not None:
        return str(uuid.uuid5(_NAMESPACE, f"{request_id}|{index}"))
    if not any(item.operation in _WRITE_OPERATIONS for item in chunk):
        return None
    name = "|".join(f"{item.bid}={item.request_id or item.query}" for item in chunk)
    return str(uuid.uuid5(_NAMESPACE, name))


def request_body(chunk: Sequence[BatchItem]) -> dict[str, Any]:
    """`{"BatchItemRequest": [...]}`."""
    return {"BatchItemRequest": [item.to_json() for item in chunk]}


def parse_response(
    chunk: Sequence[BatchItem], data: Any, *, request_id: str | None = None
) -> list[BatchResult]:
    """One `BatchResult` per item of `chunk`, in order, from a `BatchItemResponse`."""
    responses = data.get("BatchItemResponse") if isinstance(data, Mapping) else None
    by_bid: dict[str, Mapping[str, Any]] = {}
    for entry in responses if isinstance(responses, list) else []:
        if isinstance(entry, Mapping) and "bId" in entry:
            by_bid[str(entry["bId"])] = entry
    results: list[BatchResult] = []
    for item in chunk:
        context = f"batch {item.operation} {item.entity or ''} (bId {item.bid})".replace("  ", " ")
        entry = by_bid.get(item.bid)
        if entry is None:
            results.append(
                BatchResult(
                    item,
                    error=ServerError(
                        f"QuickBooks {context} got no answer in the batch response; send it again.",
                        request_id=request_id,
                    ),
                )
            )
            continue
        fault = entry.get("Fault") or entry.get("fault")
        if fault is not None:
            error = error_from_fault(fault, status=200, context=context, request_id=request_id)
            results.append(BatchResult(item, error=error))
        elif isinstance(entry.get("QueryResponse"), Mapping):
            results.append(BatchResult(item, query_response=dict(entry["QueryResponse"])))
        else:
            objects = [v for k, v in entry.items() if k != "bId" and isinstance(v, Mapping)]
            results.append(BatchResult(item, entity=dict(objects[0]) if objects else None))
    return results
