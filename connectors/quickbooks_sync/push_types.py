"""The inputs of a push: the connection pushed to, run options, and one planned operation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connectors.quickbooks.settings import QuickBooksSettings


@dataclass(frozen=True)
class Target:
    """The connection being pushed to."""

    integration_id: uuid.UUID
    company_id: uuid.UUID
    settings: QuickBooksSettings


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
