"""Open a QuickBooksClient for one company's stored connection (tokens from the database, refreshed as
needed), with the integration's parsed settings."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.crypto import Keyring
from connectors.db.models import Integration
from connectors.quickbooks import oauth
from connectors.quickbooks.client import QuickBooksClient, RetryPolicy
from connectors.quickbooks.ratelimit import Limiter
from connectors.quickbooks.settings import QuickBooksSettings, parse_settings
from connectors.quickbooks.tokens import DbTokenSource, ReauthorizationRequiredError
from sierra_sync.errors import NotFoundError

INTEGRATION_TYPE = "quickbooks_online"


@dataclass(frozen=True)
class Connection:
    integration_id: uuid.UUID
    company_id: uuid.UUID
    realm_id: str
    settings: QuickBooksSettings


def load_connection(session: Session, company_id: uuid.UUID) -> Connection:
    """The company's QuickBooks connection, or one line saying how to make it usable."""
    row = session.scalar(
        select(Integration).where(
            Integration.company_id == company_id, Integration.integration_type == INTEGRATION_TYPE
        )
    )
    if row is None:
        raise NotFoundError(
            "this company is not connected to QuickBooks; run `sierra-sync connect quickbooks --company …`"
        )
    if row.connection_status != "connected" or not row.external_company_id:
        raise ReauthorizationRequiredError(
            row.status_message
            or f"this company's QuickBooks connection is {row.connection_status}; "
            "run `sierra-sync connect quickbooks --company …`"
        )
    return Connection(row.id, row.company_id, row.external_company_id, parse_settings(row.settings))


@contextmanager
def open_client(
    sessions: sessionmaker[Session],
    connection: Connection,
    keyring: Keyring,
    app: oauth.OAuthApp,
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
