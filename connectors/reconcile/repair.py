"""Repair planning: which discrepancies a targeted push fixes (the app is the source of truth), and the
link changes that let the push do it. Nothing in QuickBooks is deleted here; duplicates are deleted only
by `delete_duplicates`, one request per object, each with a deterministic requestid.

- missing in QBO, never pushed / unlinked: push the record (find-before-create links an existing copy);
- missing in QBO, deleted there: drop the stale link, then push (creates it again);
- amount or status mismatch on a linked record: re-arm the link (forget the synced version, take the
  SyncToken reconciliation just read), then push: the app's values win, unless QuickBooks changed again
  since this read (the push's conflict policy then decides, as for any edit made in both systems).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from connectors.quickbooks.client import make_request_id
from connectors.quickbooks.errors import QuickBooksError
from connectors.reconcile.classify import ACTIONS, APP_OWNED, QBO_NAMES
from sierra_core.db.models import EntityLink


class DeletingClient(Protocol):
    def delete(self, entity: str, entity_id: object, sync_token: str, request_id: str) -> dict[str, Any]: ...


@dataclass
class RepairPlan:
    push_ids: dict[str, set[uuid.UUID]] = field(default_factory=dict)
    unlink: dict[str, set[uuid.UUID]] = field(default_factory=dict)  # stale links (QBO object deleted)
    rearm: dict[str, dict[uuid.UUID, str]] = field(default_factory=dict)  # app id -> current SyncToken
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)  # (entity type, QBO id, SyncToken)

    @property
    def ids(self) -> list[uuid.UUID]:
        return sorted({i for ids in self.push_ids.values() for i in ids})

    @property
    def entity_types(self) -> list[str]:
        return sorted(t for t, ids in self.push_ids.items() if ids)


def plan(discrepancies: pd.DataFrame, qbo: pd.DataFrame) -> RepairPlan:
    """What repair does for these discrepancies (only the app-owned ones, and QBO duplicates)."""
    out = RepairPlan()
    tokens = dict(
        zip(zip(qbo["entity_type"], qbo["external_id"], strict=True), qbo["sync_token"], strict=True)
    )
    for row in discrepancies.itertuples(index=False):
        entity_type = str(row.entity_type)
        if row.kind == "duplicate_in_qbo" and row.external_id is not pd.NA:
            token = tokens.get((entity_type, row.external_id))
            if entity_type in ("invoice", "payment") and token is not None:
                out.duplicates.append((entity_type, str(row.external_id), str(token)))
            continue
        if row.action not in APP_OWNED or row.app_id is pd.NA:
            continue
        app_id = uuid.UUID(str(row.app_id))
        out.push_ids.setdefault(entity_type, set()).add(app_id)
        if row.action == ACTIONS["missing_in_qbo_deleted"]:
            out.unlink.setdefault(entity_type, set()).add(app_id)
        elif row.kind in ("amount_mismatch", "status_mismatch") and row.external_id is not pd.NA:
            token = tokens.get((entity_type, row.external_id))
            if token is not None:
                out.rearm.setdefault(entity_type, {})[app_id] = str(token)
    return out


def prepare_links(session: Session, integration_id: uuid.UUID, repair: RepairPlan) -> dict[str, int]:
    """Drop stale links and re-arm linked records so the targeted push sends the app's values."""
    dropped = rearmed = 0
    for entity_type, app_ids in repair.unlink.items():
        result = session.execute(
            delete(EntityLink).where(
                EntityLink.integration_id == integration_id,
                EntityLink.entity_type == entity_type,
                EntityLink.app_id.in_(sorted(app_ids)),
            )
        )
        dropped += int(getattr(result, "rowcount", 0) or 0)
    for entity_type, tokens in repair.rearm.items():
        for app_id, token in tokens.items():
            result = session.execute(
                update(EntityLink)
                .where(
                    EntityLink.integration_id == integration_id,
                    EntityLink.entity_type == entity_type,
                    EntityLink.app_id == app_id,
                )
                .values(last_synced_version=None, external_sync_token=token)
            )
            rearmed += int(getattr(result, "rowcount", 0) or 0)
    return {"links_dropped": dropped, "links_rearmed": rearmed}


def delete_duplicates(
    client: DeletingClient, integration_id: uuid.UUID, duplicates: list[tuple[str, str, str]]
) -> list[dict[str, str]]:
    """Delete the extra QuickBooks copies (asked for explicitly); one outcome per object."""
    outcomes: list[dict[str, str]] = []
    for entity_type, external_id, token in duplicates:
        # A deterministic requestid per object and SyncToken: a retried or replayed repair deletes once.
        request_id = make_request_id(integration_id, entity_type, f"qbo-{external_id}", token, "delete")
        try:
            client.delete(QBO_NAMES[entity_type], external_id, token, request_id)
            outcomes.append({"entity_type": entity_type, "external_id": external_id, "result": "deleted"})
        except QuickBooksError as err:
            outcomes.append({"entity_type": entity_type, "external_id": external_id, "result": str(err)})
    return outcomes
