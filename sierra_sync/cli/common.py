"""What the commands share: the engine, a schema check, JSON output, and resolve_company (re-exported)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import typer
from sqlalchemy import Engine

from connectors.companies import resolve_company
from sierra_core.db import migrate
from sierra_core.db.engine import make_engine
from sierra_core.errors import SierraError
from sierra_core.settings import get_settings


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


__all__ = ["echo_json", "open_engine", "require_current_schema", "resolve_company"]
