"""Per-record outcomes of a Xero batch write: saved, rejected with Xero's messages, or deferred because the
organisation's daily allowance is spent (never a failure: the records go again on the next UTC day)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["BatchRecord", "DailyBudgetExhausted", "Outcome", "Rejected", "Saved"]


@dataclass(frozen=True)
class BatchRecord:
    """One record to write: the app's key (its row id), its version (a new version is a new write, with a
    new Idempotency-Key) and the Xero payload."""

    key: str
    payload: Mapping[str, Any]
    version: int | str = 1


@dataclass(frozen=True)
class Saved:
    """Xero created or updated the record: its id there and the document it answered."""

    key: str
    xero_id: str
    created: bool
    document: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Rejected:
    """Xero refused the record; `messages` are its ValidationErrors (what to fix)."""

    key: str
    messages: tuple[str, ...]
    code: str = "validation"


@dataclass(frozen=True)
class DailyBudgetExhausted:
    """Not sent: the organisation's daily allowance of calls is spent. Send again from `resume_at`."""

    key: str
    resume_at: datetime
    message: str


Outcome = Saved | Rejected | DailyBudgetExhausted
