"""Entity links (app id <-> the provider's id): the first layer of idempotency. Read in bulk, written with
upserts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sierra_core.db.models import EntityLink
from sierra_core.db.models.base import table_of
from sierra_core.db.types import utcnow


def links_for(
    session: Session, integration_id: uuid.UUID, entity_type: str, app_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, EntityLink]:
    ids = list(app_ids)
    out: dict[uuid.UUID, EntityLink] = {}
    for start in range(0, len(ids), 500):
        rows = session.scalars(
            select(EntityLink).where(
                EntityLink.integration_id == integration_id,
                EntityLink.entity_type == entity_type,
                EntityLink.app_id.in_(ids[start : start + 500]),
            )
        )
        out.update({row.app_id: row for row in rows})
    return out


def link_by_external(
    session: Session, integration_id: uuid.UUID, entity_type: str, external_id: str
) -> EntityLink | None:
    return session.scalar(
        select(EntityLink).where(
            EntityLink.integration_id == integration_id,
            EntityLink.entity_type == entity_type,
            EntityLink.external_id == external_id,
        )
    )


def save_link(
    session: Session,
    *,
    integration_id: uuid.UUID,
    company_id: uuid.UUID,
    entity_type: str,
    app_id: uuid.UUID,
    external_id: str,
    sync_token: str | None,
    version: int | None,
    external_updated_at: datetime | None,
    now: datetime | None = None,
) -> None:
    """Create or move the link of `app_id` in one atomic upsert, so two workers linking the same record at
    once both succeed (the later write wins) instead of one failing on the unique key."""
    save_links(
        session,
        [
            link_row(
                integration_id=integration_id,
                company_id=company_id,
                entity_type=entity_type,
                app_id=app_id,
                external_id=external_id,
                sync_token=sync_token,
                version=version,
                external_updated_at=external_updated_at,
                now=now,
            )
        ],
    )


def link_row(
    *,
    integration_id: uuid.UUID,
    company_id: uuid.UUID,
    entity_type: str,
    app_id: uuid.UUID,
    external_id: str,
    sync_token: str | None,
    version: int | None,
    external_updated_at: datetime | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The parameters of one link's upsert (see `save_links`)."""
    now = now or utcnow()
    return {
        "id": uuid.uuid4(),
        "integration_id": integration_id,
        "company_id": company_id,
        "entity_type": entity_type,
        "app_id": app_id,
        "created_at": now,
        "external_id": external_id,
        "external_sync_token": sync_token,
        "last_synced_version": version,
        "last_synced_at": now,
        "external_updated_at": external_updated_at,
        "external_deleted_at": None,
        "updated_at": now,
    }


def save_links(session: Session, rows: list[dict[str, Any]]) -> None:
    """Upsert several links (`link_row`s, distinct app ids) in one executemany, in order."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    stmt = _UPSERTS.get(dialect)
    if stmt is None:
        stmt = _UPSERTS[dialect] = _upsert(dialect)
    session.execute(stmt, rows)


_MOVED = (
    "external_id",
    "external_sync_token",
    "last_synced_version",
    "last_synced_at",
    "external_updated_at",
    "external_deleted_at",
    "updated_at",
)
_UPSERTS: dict[str, Any] = {}


def _upsert(dialect: str) -> Any:
    """The link upsert of a dialect, built once with bound parameters (a push links thousands of records:
    the statement is not rebuilt and re-keyed for each)."""
    table = table_of(EntityLink)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    columns = ("id", "integration_id", "company_id", "entity_type", "app_id", "created_at", *_MOVED)
    stmt = insert(table).values({name: bindparam(name) for name in columns})
    return stmt.on_conflict_do_update(
        index_elements=["integration_id", "entity_type", "app_id"],
        set_={name: stmt.excluded[name] for name in _MOVED},
    )
