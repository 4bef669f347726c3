"""What the commands share: the engine from settings, a check that the schema is current, JSON output."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import typer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from connectors.db import migrate
from connectors.db.engine import make_engine
from connectors.db.models import Company
from sierra_sync.errors import NotFoundError, SierraError
from sierra_sync.settings import get_settings


def open_engine() -> Engine:
    """The app database named by SIERRA_DATABASE_URL (default: the SQLite file under SIERRA_DATA_DIR)."""
    return make_engine(get_settings().resolved_database_url())


def require_current_schema(engine: Engine) -> None:
    current, head = migrate.current_revision(engine), migrate.head_revision(engine)
    if current != head:
        raise SierraError(
            f"the database schema is at {current or 'nothing'} but this version needs {head}; "
            "run `sierra-sync db upgrade` first"
        )


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def echo_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, default=_default, ensure_ascii=False))


def resolve_company(session: Session, value: str) -> Company:
    """A company by id or by exact name, or one line naming a few that exist."""
    company: Company | None = None
    try:
        company = session.get(Company, uuid.UUID(value))
    except ValueError:
        company = session.scalar(select(Company).where(Company.name == value, Company.deleted_at.is_(None)))
    if company is None:
        known = session.scalars(select(Company.name).order_by(Company.name).limit(5)).all()
        hint = (
            f" (companies here include: {', '.join(known)})"
            if known
            else " (none yet: run `sierra-sync db seed`)"
        )
        raise NotFoundError(f"no company with id or exact name {value!r}{hint}")
    return company
