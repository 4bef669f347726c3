"""Open a QuickBooksClient for one company's stored connection (tokens from the database, refreshed as
needed), with the integration's parsed settings."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy.orm import Session, sessionmaker

from connectors.kit import oauth
from connectors.kit.connection import load_stored_connection
from connectors.kit.ratelimit import Limiter
from connectors.kit.retry import RetryPolicy
from connectors.kit.tokens import DbTokenSource
from connectors.quickbooks.client import QuickBooksClient
from connectors.quickbooks.provider import QUICKBOOKS
from connectors.quickbooks.settings import QuickBooksSettings, parse_settings
from sierra_core.crypto import Keyring

INTEGRATION_TYPE = QUICKBOOKS.name


@dataclass(frozen=True)
class Connection:
    integration_id: uuid.UUID
    company_id: uuid.UUID
    realm_id: str
    settings: QuickBooksSettings


def load_connection(session: Session, company_id: uuid.UUID) -> Connection:
    """The company's QuickBooks connection, or one line saying how to make it usable."""
    stored = load_stored_connection(session, company_id, QUICKBOOKS)
    assert stored.external_company_id is not None  # load_stored_connection checks it
    return Connection(
        stored.integration_id, stored.company_id, stored.external_company_id, parse_settings(stored.settings)
    )


@contextmanager
def open_client(
    sessions: sessionmaker[Session],
    connection: Connection,
    keyring: Keyring,
    app: oauth.App,
    *,
    limiter: Limiter | None = None,
    retry: RetryPolicy | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Iterator[QuickBooksClient]:
    with httpx.Client(timeout=30) as oauth_http:
        source = DbTokenSource(sessions, connection.integration_id, keyring, app, oauth_http)
        with QuickBooksClient(
            app.api_base_url, connection.realm_id, source, limiter=limiter, retry=retry, transport=transport
        ) as client:
            yield client
