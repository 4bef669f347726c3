"""What a task needs to talk to one company's Xero organisation: the database, the company's stored Xero
connection (its tenant id is `external_company_id`) and a Xero client that refreshes the connection's tokens
and shares the organisation's budget (60 a minute, 5 at a time) with every other worker through the
database. Also: which accounting system a company is connected to."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from blocks.loader import load_block, token_keys
from blocks.xero import XERO_APP_BLOCK, XeroAppCredentials
from connectors.kit import oauth
from connectors.kit.connection import StoredConnection, load_stored_connection
from connectors.kit.retry import RetryPolicy
from connectors.kit.tokens import DbTokenSource
from connectors.xero.client import XeroClient, xero_limiter
from connectors.xero.provider import XERO
from sierra_core.crypto import Keyring
from sierra_core.errors import ConfigError, SierraError
from sierra_core.settings import get_settings
from tasks.runtime import app_engine, sessions

__all__ = ["XeroCompany", "xero_app", "xero_company", "xero_retry"]


def xero_app() -> oauth.App:
    """The saved Xero developer app (`sierra-xero-app`) as plain values."""
    return load_block(XeroAppCredentials, XERO_APP_BLOCK).oauth_app()


def xero_retry() -> RetryPolicy:
    """The retries of a Xero request, from the settings (the demo shortens the waits)."""
    settings = get_settings()
    return RetryPolicy(
        initial_wait=settings.xero_retry_initial_wait,
        jitter=min(0.5, settings.xero_retry_initial_wait),
        max_server_wait=settings.xero_max_throttle_wait,
    )


@dataclass(frozen=True)
class XeroCompany:
    sessions: sessionmaker[Session]
    connection: StoredConnection
    client: XeroClient
    app: oauth.App
    tokens: DbTokenSource
    http: httpx.Client

    def connections(self) -> list[dict[str, Any]]:
        """GET /connections with the connection's token: the organisations it reaches."""
        url = self.app.endpoints.post_connect
        if not url:
            raise ConfigError("the Xero app declares no /connections URL")
        answer = self.http.get(url, headers={"Authorization": f"Bearer {self.tokens.access_token()}"})
        if answer.status_code != 200:
            raise SierraError(f"Xero answered {answer.status_code} to GET /connections")
        listed = answer.json()
        return [dict(c) for c in listed] if isinstance(listed, list) else []


@contextmanager
def xero_company(
    company_id: uuid.UUID, app: oauth.App | None = None, keyring: Keyring | None = None
) -> Iterator[XeroCompany]:
    """Open the company's Xero organisation; one line of error when it cannot be reached (not connected,
    no organisation chosen, the app block missing)."""
    factory = sessions()
    with factory() as session:
        connection = load_stored_connection(session, company_id, XERO)
    app = app or xero_app()
    ring = keyring or token_keys().keyring()
    tenant = str(connection.external_company_id)
    with httpx.Client(timeout=30) as http:
        source = DbTokenSource(factory, connection.integration_id, ring, app, http)
        limiter = xero_limiter(tenant, engine=app_engine())
        with XeroClient(app.api_base_url, tenant, source, limiter=limiter, retry=xero_retry()) as client:
            yield XeroCompany(factory, connection, client, app, source, http)
