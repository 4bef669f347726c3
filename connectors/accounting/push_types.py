"""The inputs of a push: the connection pushed to (and what the engine reads of its settings), run options,
the deterministic idempotency key, the conflict policy, and one planned operation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

__all__ = [
    "ConflictPolicies",
    "Op",
    "PushOptions",
    "SyncSettings",
    "Target",
    "make_request_id",
    "resolve_conflict",
]

# The namespace the ids had before the engine moved here: the same record sends the same key.
_REQUEST_ID_NAMESPACE = uuid.UUID("6f0e2d3a-5b1c-5e8f-9a47-3c2b1d0e9f11")


class ConflictPolicies(Protocol):
    """The conflict policy per entity type: last_write_wins, app_wins, or the provider's side wins."""

    @property
    def customers(self) -> str: ...
    @property
    def invoices(self) -> str: ...
    @property
    def payments(self) -> str: ...
    @property
    def expenses(self) -> str: ...


class SyncSettings(Protocol):
    """What the engine reads from a connection's settings (each provider's settings have these)."""

    @property
    def sync_customers(self) -> bool: ...
    @property
    def sync_invoices(self) -> bool: ...
    @property
    def sync_payments(self) -> bool: ...
    @property
    def sync_expenses(self) -> bool: ...
    @property
    def sync_draft_invoices(self) -> bool: ...
    @property
    def conflict_policy(self) -> ConflictPolicies: ...


def policy_for(settings: SyncSettings, entity_type: str) -> str:
    policies = settings.conflict_policy
    return {
        "customer": policies.customers,
        "invoice": policies.invoices,
        "payment": policies.payments,
        "expense": policies.expenses,
    }[entity_type]


def resolve_conflict(
    policy: str, app_updated_at: datetime, provider_updated_at: datetime
) -> Literal["app", "provider"]:
    """Which side wins when both changed since the last sync: app_wins, last_write_wins (the app's
    updated_at against the provider's last-updated time, both aware; a tie goes to the app), or any other
    policy (`<provider>_wins`): the provider."""
    if policy == "app_wins":
        return "app"
    if policy != "last_write_wins":
        return "provider"
    if app_updated_at.tzinfo is None or provider_updated_at.tzinfo is None:
        raise ValueError("conflict resolution needs aware datetimes")
    return "provider" if provider_updated_at > app_updated_at else "app"


def make_request_id(
    integration_id: object, entity_type: str, app_id: object, version: object, operation: str = "upsert"
) -> str:
    """A deterministic idempotency key (a UUIDv5, 36 characters): the same (integration, entity type, app
    id, version, operation) always gives the same one, so a retry, a crashed worker's successor or a
    replayed flow sends the same key and the provider answers with the original."""
    name = f"{integration_id}|{entity_type.lower()}|{app_id}|{version}|{operation.lower()}"
    return str(uuid.uuid5(_REQUEST_ID_NAMESPACE, name))


@dataclass(frozen=True)
class Target:
    """The connection being pushed to."""

    integration_id: uuid.UUID
    company_id: uuid.UUID
    settings: SyncSettings


@dataclass
class PushOptions:
    dry_run: bool = False
    trigger: str = "manual"
    flow_run_id: str | None = None
    max_retries: int = 3
    # Attempt rows opened by the retry sweep: (entity type, app id) -> sync-log id to finish.
    claimed: dict[tuple[str, uuid.UUID], uuid.UUID] = field(default_factory=dict)
    progress: Callable[[int, int], None] | None = None
    # Lease of every attempt this push opens or holds, renewed while it runs
    # (connectors.accounting.heartbeat): a worker that dies leaves attempts the next sweep recovers
    # once it has passed. None: no lease.
    lease_s: float | None = 20.0
    # Asked between batch requests: True stops the push there (the process is stopping). What was sent is
    # recorded; records not reached keep their pending version and go with the next sync.
    should_stop: Callable[[], bool] | None = None


@dataclass
class Op:
    row: Any
    action: str  # create | update | void
    body: dict[str, Any]
    request_id: str
    external_id: str | None = None
    sync_token: str | None = None
