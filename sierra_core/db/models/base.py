"""Declarative base, naming convention and the mixins every table shares."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

from sqlalchemy import MetaData, Table, Uuid, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sierra_core.db.types import UTCDateTime, utcnow

# Deterministic constraint names: Alembic can drop and alter them on both dialects.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UUIDPk:
    """A UUID primary key generated in Python (native UUID on PostgreSQL, CHAR(32) on SQLite)."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class Timestamps:
    """created_at / updated_at, both UTC; updated_at moves on every UPDATE issued through SQLAlchemy.

    The migrations add a trigger on each table as well, so raw SQL writes move it too.
    """

    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow, server_default=func.now()
    )


class SoftDelete:
    """Rows an accountant expects to remain are marked deleted, never removed."""

    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


def table_of(model: type[Base]) -> Table:
    """The Core Table of a mapped class (typed as Table, which `__table__` is not)."""
    return cast(Table, model.__table__)


def in_check(column: str, values: tuple[str, ...]) -> str:
    """The SQL of a CHECK that `column` is one of `values` (fixed vocabularies: statuses, kinds)."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"
