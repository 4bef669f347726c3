"""Change data capture: GET /cdc?entities=A,B&changedSince=<ISO time>.

Changes of the last `cdc_window_days` only (older: a fault, or clamped with `cdc_too_old="clamp"`), at most
`cdc_max_objects` objects per response shared across the entities, deleted objects as
`{"status": "Deleted", "domain": "QBO", "Id", "MetaData": {"LastUpdatedTime"}}`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sandbox.quickbooks import faults
from sandbox.quickbooks.query import resolve_entity
from sandbox.quickbooks.store import Realm
from sandbox.quickbooks.wire import QboFault, parse_time

__all__ = ["cdc"]


def cdc(
    realm: Realm,
    entities: str | None,
    changed_since: str | None,
    now: datetime,
    window_days: int = 30,
    cap: int = 1000,
    too_old: str = "error",
) -> dict[str, Any]:
    """The `CDCResponse` list: one QueryResponse per entity, in the order asked."""
    if not entities:
        raise faults.required("entities")
    if not changed_since:
        raise faults.required("changedSince")
    try:
        since = parse_time(changed_since, realm.tz)
    except ValueError:
        raise faults.invalid_property(
            f"Property Name:changedSince is not a valid date-time: {changed_since}"
        ) from None
    oldest = now - timedelta(days=window_days)
    if since < oldest:
        if too_old == "error":
            raise QboFault(
                "2010",
                "Request has invalid or unsupported property",
                f"Property Name:changedSince must be within the last {window_days} days",
                "changedSince",
            )
        since = oldest
    budget = cap
    responses: list[dict[str, Any]] = []
    for name in (n.strip() for n in entities.split(",") if n.strip()):
        spec = resolve_entity(name)
        changed = sorted(
            (rec for rec in realm.table(spec.name).values() if rec.updated >= since),
            key=lambda rec: rec.updated,
        )
        taken = changed[: max(0, budget)]
        budget -= len(taken)
        if not taken:
            responses.append({})
            continue
        response: dict[str, Any] = {
            spec.key: [rec.data for rec in taken],
            "startPosition": 1,
            "maxResults": len(taken),
        }
        if spec.total_count:
            response["totalCount"] = len(taken)
        responses.append(response)
    return {"CDCResponse": [{"QueryResponse": responses}]}
