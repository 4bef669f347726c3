"""What every save of one element shares: the outcome (`Saved`) and committing a checked document."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sandbox.xero.store import ID_FIELDS, Organisation, new_id

__all__ = ["SaveContext", "Saved", "Saver", "commit", "refused"]


@dataclass
class SaveContext:
    """One request's: the organisation, PUT (create only) or POST (create or update), the time."""

    org: Organisation
    create_only: bool
    now_ms: str
    today: date


@dataclass
class Saved:
    """One element's outcome: the document as answered and Xero's validation messages (none: applied)."""

    doc: dict[str, Any]
    errors: list[str] = field(default_factory=list)


Saver = Callable[[SaveContext, dict[str, Any]], Saved]


def refused(element: dict[str, Any], errors: list[str]) -> Saved:
    return Saved(dict(element), errors)


def commit(ctx: SaveContext, resource: str, doc: dict[str, Any]) -> Saved:
    """Store `doc` (a new id when it has none) stamped with the time."""
    id_field = ID_FIELDS[resource]
    doc.setdefault(id_field, new_id())
    doc["UpdatedDateUTC"] = ctx.now_ms
    ctx.org.docs[resource][str(doc[id_field])] = doc
    return Saved(doc)
