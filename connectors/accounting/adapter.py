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
from typing import Any, Literal, Protocol

__all__ = [
    "AccountingAdapter",
    "Change",
    "Document",
    "ErrorKind",
    "Found",
    "Lookup",
    "RefResolver",
    "RequestCounter",
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


class RequestCounter(Protocol):
    """Where an adapter counts the requests it sends (the push's result)."""

    batch_requests: int
    single_requests: int


class RefResolver(Protocol):
    """External ids of what a record depends on; raises (a mapping error naming the fix) when missing."""

    def customer(self, row_label: str, customer_id: uuid.UUID | None) -> str: ...

    def invoice(self, row_label: str, invoice_id: uuid.UUID | None) -> str | None: ...


class AccountingAdapter(Protocol):
    """The provider-specific half of the sync: one instance per connection (client and settings inside)."""

    title: str
    """The provider as a bookkeeper calls it, for messages ("Xero")."""

    def to_external(self, entity_type: str, row: Any, refs: RefResolver) -> Document:
        """The provider's document for an app row (ids of dependencies from `refs`)."""
        ...

    def from_external(self, entity_type: str, document: Mapping[str, Any]) -> dict[str, Any]:
        """App column values for a provider document (the pull side of the mapping)."""
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

    def changes(self, entity_types: Sequence[str], since: datetime) -> list[Change]:
        """What changed or was deleted at the provider since `since` (the change feed)."""
        ...

    def classify(self, error: Exception) -> ErrorKind:
        """What an error raised by this adapter means for the engine."""
        ...

    def remaining_budget(self) -> int | None:
        """Calls the connection may still spend in its current window (None: not known or not limited)."""
        ...
