"""The inputs and the report of a pull: run options, counts per entity type, decisions with reasons."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sierra_core.db.types import utcnow


@dataclass
class PullOptions:
    trigger: str = "manual"
    flow_run_id: str | None = None
    # Changes are read from (cursor - lag): a change the provider committed with a slightly older
    # timestamp, or under clock skew, is still seen; what is seen twice is skipped by its version token.
    lag: timedelta = timedelta(minutes=5)
    clock: Callable[[], datetime] = utcnow
    max_objects: int = 1000  # the change feed's cap per answer (tests lower it)


@dataclass
class PullCounts:
    created: int = 0
    updated: int = 0
    linked: int = 0
    deleted: int = 0
    voided: int = 0
    skipped: int = 0
    conflicts: int = 0
    failed: int = 0


@dataclass
class PullDecision:
    entity_type: str
    external_id: str
    app_id: uuid.UUID | None
    label: str
    action: str  # create | update | link | delete | void | skip | conflict | fail
    reason: str

    def as_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["app_id"] = str(self.app_id) if self.app_id else None
        return row


@dataclass
class PullFailure:
    entity_type: str
    external_id: str
    label: str
    code: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PullResult:
    """What one pull did. `cursors` are the new cursors written (entity type -> time); `requests` counts
    the provider's API requests made; `deletes_complete` is False when the provider could not list every
    deletion (a full sync, or a gap longer than it keeps deletions)."""

    full: bool
    started_at: datetime
    since: datetime | None = None
    counts: dict[str, PullCounts] = field(default_factory=dict)
    decisions: list[PullDecision] = field(default_factory=list)
    failures: list[PullFailure] = field(default_factory=list)
    cursors: dict[str, datetime] = field(default_factory=dict)
    requests: int = 0
    deletes_complete: bool = True

    def count(self, entity_type: str) -> PullCounts:
        return self.counts.setdefault(entity_type, PullCounts())

    def bump(self, entity_type: str, outcome: str) -> None:
        counts = self.count(entity_type)
        setattr(counts, outcome, getattr(counts, outcome) + 1)

    @property
    def changed(self) -> int:
        """Objects that changed the app (created, updated, linked, deleted, voided)."""
        return sum(c.created + c.updated + c.linked + c.deleted + c.voided for c in self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "full": self.full,
            "started_at": self.started_at.isoformat(),
            "since": self.since.isoformat() if self.since else None,
            "counts": {k: asdict(v) for k, v in self.counts.items()},
            "failures": [f.as_dict() for f in self.failures],
            "cursors": {k: v.isoformat() for k, v in self.cursors.items()},
            "requests": self.requests,
            "deletes_complete": self.deletes_complete,
        }
