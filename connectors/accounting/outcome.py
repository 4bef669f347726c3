"""What a push reports: counts per entity type, the plan (every decision with its reason), failures."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

ACTIONS = ("create", "update", "link", "void", "skip", "conflict", "fail", "defer")


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    linked: int = 0
    voided: int = 0
    skipped: int = 0
    conflicts: int = 0
    failed: int = 0
    retrying: int = 0
    deferred: int = 0  # not sent: the connection's call allowance is spent until `PushResult.resume_at`


@dataclass
class Decision:
    entity_type: str
    app_id: uuid.UUID
    label: str
    action: str
    reason: str
    external_id: str | None = None

    def as_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["app_id"] = str(self.app_id)
        return row


@dataclass
class Failure:
    entity_type: str
    app_id: uuid.UUID
    label: str
    status: str  # failed | retrying
    code: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "app_id": str(self.app_id)}


@dataclass
class PushResult:
    dry_run: bool
    counts: dict[str, Counts] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    batch_requests: int = 0
    single_requests: int = 0
    stopped: bool = False  # ended early on a stop request: records not reached wait for the next sync
    resume_at: datetime | None = None  # when deferred records go again (the allowance comes back)

    def count(self, entity_type: str) -> Counts:
        return self.counts.setdefault(entity_type, Counts())

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "counts": {k: asdict(v) for k, v in self.counts.items()},
            "failures": [f.as_dict() for f in self.failures],
            "batch_requests": self.batch_requests,
            "single_requests": self.single_requests,
            "stopped": self.stopped,
            "resume_at": self.resume_at.isoformat() if self.resume_at else None,
        }
