"""Which app rows a push sends: rows without a link or whose version moved since the last sync, minus
what is never sent (drafts unless enabled, voids and deletions never synced), plus every unsynced
dependency (the customer of an invoice, the invoice of a payment)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.orm import Session, sessionmaker

from connectors.accounting.links import links_for
from connectors.accounting.push_types import SyncSettings
from connectors.accounting.specs import ORDER, SPECS, Spec
from sierra_core.db.models import EntityLink, Invoice


def candidates(
    session: Session,
    spec: Spec,
    integration_id: uuid.UUID,
    company_id: uuid.UUID,
    settings: SyncSettings,
    ids: Iterable[uuid.UUID] | None,
) -> list[Any]:
    model = spec.model
    link = and_(
        EntityLink.integration_id == integration_id,
        EntityLink.entity_type == spec.entity_type,
        EntityLink.app_id == model.id,
    )
    stmt = spec.query(company_id).outerjoin(EntityLink, link)
    if ids is not None:
        wanted = list(ids)
        if not wanted:
            return []
        stmt = stmt.where(model.id.in_(wanted))
    else:
        stmt = stmt.where(
            or_(EntityLink.id.is_(None), EntityLink.last_synced_version.is_distinct_from(model.version))
        )
    stmt = stmt.where(or_(model.deleted_at.is_(None), EntityLink.id.is_not(None)))
    if model is Invoice:
        stmt = stmt.where(or_(Invoice.status != "void", EntityLink.id.is_not(None)))
        if not settings.sync_draft_invoices:
            stmt = stmt.where(or_(Invoice.status != "draft", EntityLink.id.is_not(None)))
    return list(session.scalars(stmt.order_by(model.created_at, model.id)).unique())


def select_rows(
    sessions: sessionmaker[Session],
    integration_id: uuid.UUID,
    company_id: uuid.UUID,
    settings: SyncSettings,
    entity_types: Sequence[str],
    ids: Iterable[uuid.UUID] | None = None,
    dep_links: dict[str, dict[uuid.UUID, EntityLink]] | None = None,
) -> dict[str, list[Any]]:
    """Rows to push per entity type (in dependency order), with their unsynced dependencies added. The
    links of dependencies found on the way are added to `dep_links` (by type) when given."""
    wanted = [t for t in ORDER if t in entity_types and SPECS[t].enabled(settings)]
    id_set = set(ids) if ids is not None else None
    with sessions() as session:
        selected = {
            t: candidates(session, SPECS[t], integration_id, company_id, settings, id_set) for t in wanted
        }
        for entity_type in reversed(ORDER):
            for attr, dep_type in SPECS[entity_type].depends_on:
                needed = {getattr(r, attr) for r in selected.get(entity_type, []) if getattr(r, attr)}
                found = links_for(session, integration_id, dep_type, needed)
                if dep_links is not None:
                    dep_links.setdefault(dep_type, {}).update(found)
                linked = set(found)
                have = {r.id for r in selected.get(dep_type, [])}
                missing = needed - linked - have
                if missing:
                    extra = candidates(
                        session, SPECS[dep_type], integration_id, company_id, settings, missing
                    )
                    selected[dep_type] = selected.get(dep_type, []) + extra
    return {t: selected[t] for t in ORDER if selected.get(t)}
