"""Shared fixtures: every SQL test runs on SQLite and on the real PostgreSQL at 127.0.0.1:5432.

PostgreSQL tests use a private schema of the `test` database (dropped at the end), so parallel runs and
other projects' data never collide. PostgreSQL must be up (`make test` starts it): a missing server is an
error, never a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from sierra_core.db import migrate
from sierra_core.db.engine import make_engine, session_factory
from sierra_core.db.models import Base

pytest_plugins = ["tests.browser"]

PG_BASE_URL = os.environ.get("SIERRA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DIALECTS = ["sqlite", "postgresql"]


def _pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_BASE_URL else "?"
    return f"{PG_BASE_URL}{sep}options=-csearch_path%3D{schema}"


class Database:
    """A migrated database of one dialect: its URL (for subprocesses) and engine."""

    def __init__(self, dialect: str, url: str, engine: Engine) -> None:
        self.dialect = dialect
        self.url = url
        self.engine = engine

    def clear(self) -> None:
        with self.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


def create_database(dialect: str, tmp_dir: str) -> tuple[Database, str | None]:
    """A fresh, empty database of `dialect`; returns it and the PostgreSQL schema to drop (if any)."""
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_dir}/sierra-test-{uuid.uuid4().hex[:8]}.db"
        return Database(dialect, url, make_engine(url)), None
    schema = f"sierra_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_BASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    url = _pg_schema_url(schema)
    return Database(dialect, url, make_engine(url)), schema


def drop_schema(schema: str) -> None:
    admin = make_engine(PG_BASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="session", params=DIALECTS)
def migrated_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    db, schema = create_database(request.param, str(tmp_path_factory.mktemp(request.param)))
    migrate.upgrade(db.engine)
    yield db
    db.engine.dispose()
    if schema:
        drop_schema(schema)


@pytest.fixture
def db(migrated_db: Database) -> Iterator[Database]:
    """The migrated database of the current dialect, emptied after the test."""
    yield migrated_db
    migrated_db.clear()


@pytest.fixture
def engine(db: Database) -> Engine:
    return db.engine


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture(params=DIALECTS)
def fresh_db(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[Database]:
    """A database of each dialect with no schema at all (for migration and CLI tests)."""
    db, schema = create_database(request.param, str(tmp_path))
    yield db
    db.engine.dispose()
    if schema:
        drop_schema(schema)


# --- local sandboxes over real sockets -------------------------------------------------------------------


class RunningSandbox:
    """A sandbox app served on a free loopback port; `admin()` calls its /__sandbox/ endpoints."""

    def __init__(self, app: object, url: str) -> None:
        self.app = app
        self.url = url

    def admin(self, method: str, path: str, json: object = None) -> object:
        import httpx

        resp = httpx.request(method, f"{self.url}/__sandbox/{path.lstrip('/')}", json=json, timeout=10)
        resp.raise_for_status()
        return resp.json()


@pytest.fixture(scope="session")
def qbo_server() -> Iterator[RunningSandbox]:
    from sandbox.common.server import LocalServer
    from sandbox.quickbooks import SandboxOptions, create_app

    # Companies made by consent get the sample lists without the sample's transactions: these tests count
    # what the app pushed (every invoice in QuickBooks is one of the app's).
    app = create_app(SandboxOptions(refresh_rotation="always", refresh_grace_s=0, new_company="lists"))
    with LocalServer(app) as server:
        yield RunningSandbox(app, server.url)


@pytest.fixture
def qbo(qbo_server: RunningSandbox) -> RunningSandbox:
    """The shared QBO sandbox, reset to a clean state for this test."""
    qbo_server.admin("POST", "reset")
    qbo_server.admin("POST", "oauth", {"consent": "auto", "refresh_rotation": "always"})
    return qbo_server


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """One temporary Prefect server for the whole run (prefect_test_harness); yields its API URL so
    subprocesses can be pointed at it with PREFECT_API_URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[RunningSandbox]:
    from sandbox.common.server import LocalServer
    from sandbox.stripe import StripeSandboxOptions, create_app

    app = create_app(
        StripeSandboxOptions(
            seed=6, webhook_retry_base_seconds=0.05, webhook_retry_max_seconds=0.2, webhook_max_attempts=4
        )
    )
    with LocalServer(app) as server:
        yield RunningSandbox(app, server.url)


@pytest.fixture
def stripe_sandbox(stripe_server: RunningSandbox) -> RunningSandbox:
    """The shared Stripe sandbox (any `sk_test_…` key works), reset to a clean state for this test."""
    stripe_server.admin("POST", "reset")
    return stripe_server
