"""What every sync task builds for one company: the database, the saved blocks, the company's accounting
connection (QuickBooks or Xero: a company uses one), its sync adapter, and a client that shares the
connection's request budget with everything else in this process (and, through the database, with every
other worker)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from blocks.loader import quickbooks_app, token_keys
from connectors.accounting.push_types import Target
from connectors.companies import resolve_company
from connectors.kit import oauth
from connectors.kit.ratelimit import shared_limiter
from connectors.quickbooks.client import QuickBooksClient, RetryPolicy
from connectors.quickbooks.connection import Connection, load_connection, open_client
from connectors.quickbooks.provider import QUICKBOOKS
from connectors.xero.provider import XERO
from sierra_core.crypto import Keyring
from sierra_core.db.engine import make_engine, session_factory
from sierra_core.db.models import Integration
from sierra_core.errors import NotFoundError
from sierra_core.settings import get_settings

ACCOUNTING_PROVIDERS = (QUICKBOOKS.name, XERO.name)

_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def engine_for(url: str, pool_size: int = 10) -> Engine:
    """One engine (and pool) per database URL per process (thread-safe: fan-out threads share it);
    `pool_size` counts when the engine is made (see `size_pool_for`)."""
    with _ENGINES_LOCK:
        if url not in _ENGINES:
            _ENGINES[url] = make_engine(url, pool_size=pool_size)
        return _ENGINES[url]


PUSH_CONNECTIONS = 2  # a push holds its connection's lock on one connection and works on another


def size_pool_for(concurrent_pushes: int) -> Engine:
    """Make this process's app engine with room for `concurrent_pushes` pushes at once (each holds one
    connection for its push lock for the whole push, and uses another meanwhile), so parallel pushes never
    wait on the pool. Call it before anything uses the app engine (a made engine is kept as it is)."""
    return engine_for(get_settings().resolved_database_url(), max(10, PUSH_CONNECTIONS * concurrent_pushes))


def reset_engines() -> None:
    """Close every pooled connection (tests, and after a fork)."""
    with _ENGINES_LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


def app_engine() -> Engine:
    """The app database of this process (SIERRA_DATABASE_URL), created once."""
    return engine_for(get_settings().resolved_database_url())


def sessions() -> sessionmaker[Session]:
    return session_factory(app_engine())


def company_id_of(value: str) -> uuid.UUID:
    """A company id from an id or an exact name (flows accept either, like the CLI)."""
    with sessions()() as session:
        return resolve_company(session, value).id


@dataclass(frozen=True)
class Credentials:
    app: oauth.App
    keyring: Keyring


def credentials() -> Credentials:
    return Credentials(app=quickbooks_app().oauth_app(), keyring=token_keys().keyring())


@dataclass(frozen=True)
class CompanySync:
    sessions: sessionmaker[Session]
    connection: Connection
    client: QuickBooksClient

    @property
    def target(self) -> Target:
        c = self.connection
        return Target(c.integration_id, c.company_id, c.settings)


@contextmanager
def company_sync(company_id: uuid.UUID, creds: Credentials | None = None) -> Iterator[CompanySync]:
    """Open everything a sync of `company_id` needs; one line of error when the company cannot sync."""
    factory = sessions()
    with factory() as session:
        connection = load_connection(session, company_id)
    if connection is None:  # pragma: no cover - load_connection raises instead
        raise NotFoundError("no QuickBooks connection")
    creds = creds or credentials()
    limiter = shared_limiter(connection.realm_id, engine=app_engine())
    settings = get_settings()
    retry = RetryPolicy(
        max_attempts=settings.qbo_retry_attempts,
        initial_wait=settings.qbo_retry_initial_wait,
        jitter=min(1.0, settings.qbo_retry_initial_wait),
        max_server_wait=settings.qbo_max_throttle_wait,
    )
    with open_client(factory, connection, creds.keyring, creds.app, limiter=limiter, retry=retry) as client:
        yield CompanySync(factory, connection, client)


def accounting_provider(session: Session, company_id: uuid.UUID) -> str:
    """The accounting system the company is connected to: the provider of its active accounting
    integration (QuickBooks when it has none, so the usual "not connected" message names the command)."""
    found = session.scalars(
        select(Integration.integration_type)
        .where(
            Integration.company_id == company_id,
            Integration.integration_type.in_(ACCOUNTING_PROVIDERS),
            Integration.is_active.is_(True),
        )
        .order_by(Integration.connection_status != "connected", Integration.created_at.desc())
    ).first()
    return found or QUICKBOOKS.name
