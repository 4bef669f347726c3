"""What a provider adapter does for the neutral sync engine: the `AccountingAdapter` protocol and the
plain values that cross it.

Entity types are the app's names ("customer", "invoice", "payment", "expense"); each adapter knows what they
are called at its provider. Documents are the provider's JSON objects, passed through untouched. Errors stay
the provider's exceptions; the engine only asks the adapter what they mean (`classify`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "AccountingAdapter",
    "Change",
    "ChangeFeed",
    "DocMeta",
    "Document",
    "ErrorKind",
    "Found",
    "Lookup",
    "RefResolver",
    "RequestCounter",
    "StatefulFeed",
    "Write",
    "WriteResult",
]

Document = dict[str, Any]
"""One object as the provider returns it (its JSON), e.g. an invoice with its id and version token."""


@dataclass(frozen=True)
class Lookup:
    """What one entity type needs read before writing: natural keys of records to create (find before
    create, so a lost answer never makes a duplicate) and external ids of linked records (their current
    version: the conflict check and a minimal update)."""

    values: frozenset[str] = frozenset()
    ids: frozenset[str] = frozenset()


@dataclass
class Found:
    """The answer to a `Lookup`: documents by natural key and by external id."""

    by_value: dict[str, Document] = field(default_factory=dict)
    by_id: dict[str, Document] = field(default_factory=dict)


@dataclass(frozen=True)
class Write:
    """One record to create or update; `key` is the app row's id (as text), `request_id` the deterministic
    idempotency key of this (record, version, operation)."""

    key: str
    action: Literal["create", "update"]
    body: Mapping[str, Any]
    request_id: str


@dataclass(frozen=True)
class WriteResult:
    """One record's result in a batch write: the document the provider answered, or the error (raised by
    nobody: one record fails alone)."""

    key: str
    document: Document | None = None
    error: Exception | None = None


@dataclass(frozen=True)
class ErrorKind:
    """What a provider error means for the engine.

    `retryable`: the same request may succeed later (the retry sweep takes the record again);
    `duplicate`: a create met a record with the same natural key (usually our own earlier create whose
    answer was lost): look it up and link it; `budget_resumes_at`: the connection's call allowance is spent
    until then (the records wait, they did not fail).
    """

    code: str
    retryable: bool
    duplicate: bool = False
    budget_resumes_at: datetime | None = None


@dataclass(frozen=True)
class Change:
    """One entry of the change feed: a document changed (or deleted) at the provider."""

    entity_type: str
    external_id: str
    document: Document
    deleted: bool = False


@dataclass(frozen=True)
class ChangeFeed:
    """What one read of the change feed returned: the changes, the moment they are complete up to (the
    high-water mark the next read starts from, never later than the read's start), whether every deletion
    since `since` is listed (False: a full re-read or a gap longer than the provider keeps deletions), and
    the requests the read cost. A stateful feed (`StatefulFeed`) also gives its new `state` (stored with the
    cursors, handed back next time) and the entity types it actually read (`read`; None: all of them): the
    cursor of a type it did not read stays where it was."""

    changes: list[Change]
    as_of: datetime
    deletes_complete: bool = True
    requests: int = 1
    state: dict[str, Any] | None = None
    read: frozenset[str] | None = None


@dataclass(frozen=True)
class DocMeta:
    """What the engine reads from any document: its id, its version token (None when the provider has
    none: the last-updated time stands in), when it last changed there, and whether it is deleted or voided
    there."""

    external_id: str
    version_token: str | None
    last_updated: datetime | None
    deleted: bool = False
    voided: bool = False


class RequestCounter(Protocol):
    """Where an adapter counts the requests it sends (the push's result)."""

    batch_requests: int
    single_requests: int


class RefResolver(Protocol):
    """External ids of what a record depends on; raises (a mapping error naming the fix) when missing."""

    def customer(self, row_label: str, customer_id: uuid.UUID | None) -> str: ...

    def invoice(self, row_label: str, invoice_id: uuid.UUID | None) -> str | None: ...


@runtime_checkable
class StatefulFeed(Protocol):
    """An adapter whose incremental change feed keeps a mark of its own between pulls (Xero: the last
    journal number seen) and reads only the entity types that changed. `state` is what the last read
    returned, plus `flagged`: entity type -> ISO time of the provider notifications (webhooks) received
    for it since (`flag_changed`); `since` is each type's own cursor (minus the lag)."""

    def changes_from(
        self,
        since: Mapping[str, datetime],
        *,
        now: datetime,
        state: Mapping[str, Any],
        max_objects: int = 1000,
    ) -> ChangeFeed: ...


class AccountingAdapter(Protocol):
    """The provider-specific half of the sync: one instance per connection (client and settings inside)."""

    title: str
    """The provider as a bookkeeper calls it, for messages ("Xero")."""

    event_id_field: str
    """The key under which outgoing webhook events carry the provider's id of a synced record."""

    missing_code: str
    """The error code of a linked record the provider no longer returns."""

    write_chunk: int
    """Records per `write` call (what one batch request takes)."""

    pipelined_writes: bool
    """Whether the next `write` may be in flight while the engine records the last one's outcomes (the
    provider allows concurrent requests on a connection)."""

    splits_payments: bool
    """Whether one provider payment can pay several invoices (`payment_parts` returns several parts): the
    pull then links each part under the composed id "<payment id>-<invoice id>", which the push leaves to
    the provider. False where a payment pays one invoice (and ids may hold dashes of their own)."""

    def duplicate_code(self, entity_type: str) -> str:
        """The error code of a natural key taken by a record that is not ours."""
        ...

    def entity_name(self, entity_type: str) -> str:
        """The provider's name for an entity type (the key of stored payloads)."""
        ...

    def lookup_value(self, entity_type: str, row: Any) -> str | None:
        """The natural key a create of `row` is found by before it is sent (None: it has none)."""
        ...

    def meta(self, entity_type: str, document: Mapping[str, Any]) -> DocMeta:
        """Id, version token, last-updated time and deleted/voided state of a document."""
        ...

    def sparse_update(
        self, entity_type: str, body: Mapping[str, Any], current: Mapping[str, Any]
    ) -> Document | None:
        """The update to send to bring `current` (the provider's document) to `body` (the mapped app row):
        only what differs, with the id and version token the provider needs; None when nothing differs."""
        ...

    def describe(self, entity_type: str, document: Mapping[str, Any]) -> str:
        """A label a bookkeeper recognises for a provider document ("Invoice #1001")."""
        ...

    def read(self, entity_type: str, external_id: str) -> Document:
        """One document by its id (a dependency the change feed did not bring)."""
        ...

    def reference(self, entity_type: str, document: Mapping[str, Any], to: str) -> str | None:
        """The external id of the `to` record ("customer") a document refers to, None when it has none."""
        ...

    def payment_parts(self, document: Mapping[str, Any]) -> list[tuple[str | None, Decimal]]:
        """How a payment document is applied: (external invoice id or None for unapplied, amount)."""
        ...

    def to_external(self, entity_type: str, row: Any, refs: RefResolver) -> Document:
        """The provider's document for an app row (ids of dependencies from `refs`)."""
        ...

    def from_external(
        self, entity_type: str, document: Mapping[str, Any], current: Any = None
    ) -> dict[str, Any]:
        """App column values for a provider document (the pull side of the mapping); `current` is the
        linked app row, when there is one (values the provider does not hold are kept from it)."""
        ...

    def lookup(self, wanted: Mapping[str, Lookup], counter: RequestCounter) -> dict[str, Found]:
        """Existing documents for several entity types at once, by natural key and by external id."""
        ...

    def write(self, entity_type: str, writes: Sequence[Write], counter: RequestCounter) -> list[WriteResult]:
        """Create or update records in as few requests as the provider allows, one result per write in
        order. Raises only when nothing could be sent (the whole request failed)."""
        ...

    def void(
        self, entity_type: str, external_id: str, version_token: str | None, request_id: str
    ) -> Document:
        """Void a document there (it stays, zeroed); returns the voided document."""
        ...

    def delete(
        self, entity_type: str, external_id: str, version_token: str | None, request_id: str
    ) -> Document:
        """Delete a document there (where the provider allows it)."""
        ...

    def changes(
        self, entity_types: Sequence[str], since: datetime, *, now: datetime, max_objects: int = 1000
    ) -> ChangeFeed:
        """What changed or was deleted at the provider since `since` (the change feed), read at `now`."""
        ...

    def classify(self, error: Exception) -> ErrorKind:
        """What an error raised by this adapter means for the engine."""
        ...

    def remaining_budget(self) -> int | None:
        """Calls the connection may still spend in its current window (None: not known or not limited)."""
        ...
