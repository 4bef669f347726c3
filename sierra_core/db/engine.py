"""Engine and session factory for the app database, with one clear error for a bad or unreachable URL."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from sierra_core.errors import ConfigError, DatabaseUnavailableError

SUPPORTED = ("postgresql", "sqlite")
# A pooled PostgreSQL connection idle for longer than this is pinged before use (see `_ping_when_idle`).
PING_AFTER_IDLE_SECONDS = 10.0


def redact_url(url: str | URL) -> str:
    """The URL with its password hidden, safe for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", str(url))


def parse_database_url(url: str) -> URL:
    """Validate a URL for a supported database, or raise ConfigError that says how to fix it."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"SIERRA_DATABASE_URL is not a valid database URL ({redact_url(url)}); expected e.g. "
            "postgresql+psycopg://user@host:5432/dbname or sqlite:///path/to/file.db"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED:
        raise ConfigError(
            f"unsupported database '{backend}' in SIERRA_DATABASE_URL; "
            "use postgresql+psycopg://… or sqlite:///…"
        )
    if backend == "postgresql" and parsed.get_driver_name() in ("psycopg2", "default", "postgresql"):
        # psycopg 3 is the driver we ship; a bare postgresql:// would look for psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact: money never passes through float, even in stored payloads
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be stored as JSON")


def dumps_json(value: Any) -> str:
    """The JSON encoder of every JSON/JSONB column (Decimal as exact text, dates ISO, UUIDs as text)."""
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Pessimistic disconnect handling for connections that sat idle, without a round trip per checkout.

    SQLAlchemy's `pool_pre_ping` pings on every checkout: one extra round trip for every request of the
    API. A connection used within the last `idle_seconds` is taken as alive (a server restart in that moment
    fails one statement, and SQLAlchemy then invalidates the pool); an older one is pinged, and a dead one is
    replaced before anyone uses it (DisconnectionError makes the pool retry with a new connection)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as err:
            raise DisconnectionError(f"pooled connection is gone: {type(err).__name__}") from None
        if not alive:
            raise DisconnectionError("pooled connection is gone")


def _async_commit(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("SET synchronous_commit TO OFF")
    cur.close()
    dbapi_conn.commit()


def make_engine(
    url: str, *, echo: bool = False, check: bool = True, async_commit: bool = False, pool_size: int = 10
) -> Engine:
    """An engine for `url`; with `check`, connect once so a wrong URL fails here, with one clear line.

    `async_commit` (PostgreSQL): COMMIT returns before the WAL reaches the disk. For bookkeeping that may
    lose its last fraction of a second if the database server itself crashes (never corrupts): API-key
    counters and request logs. Without it, every request's counter UPDATE holds the key's row lock through
    a disk flush, which caps one key at a few hundred requests/s whatever the CPU. `pool_size`: connections
    kept open (PostgreSQL; 10 more may be opened, and closed again, under bursts)."""
    parsed = parse_database_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "future": True, "json_serializer": dumps_json}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=pool_size, max_overflow=10)
        kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        engine = create_engine(parsed, **kwargs)
    except NoSuchModuleError:
        raise ConfigError(
            f"no driver for {parsed.drivername}; use postgresql+psycopg:// or sqlite:///"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
        if async_commit:
            event.listen(engine, "connect", _async_commit)
    if check:
        check_connection(engine)
    return engine


def check_connection(engine: Engine) -> None:
    """Open one connection, or raise DatabaseUnavailableError naming the (password-free) URL and the cause."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as err:
        cause = str(err.orig).strip().splitlines()[0] if err.orig else type(err).__name__
        raise DatabaseUnavailableError(
            f"cannot reach the database at {redact_url(engine.url)}: {cause}. "
            "Check SIERRA_DATABASE_URL and that the server is running."
        ) from None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    with factory() as session, session.begin():
        yield session
