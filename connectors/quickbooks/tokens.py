"""Per-connection OAuth tokens, sealed in `integrations`, refreshed safely.

Rules (DESIGN.md, "Tokens"):
- refresh when fewer than 5 minutes remain, or once after a 401;
- exactly one refresh at a time per connection across all processes: the refresh runs while holding the
  integration row's lock (SELECT … FOR UPDATE on PostgreSQL; on SQLite an UPDATE that takes the database
  write lock), and whoever waited re-reads the row and uses the token the winner stored;
- the rotated refresh token is committed before the new access token is returned to anyone;
- the write is a compare-and-swap on `token_version`;
- invalid_grant marks the connection `expired`, with a message that says to reconnect.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import text, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.crypto import Keyring
from connectors.db.models import Integration
from connectors.db.models.base import table_of
from connectors.db.types import utcnow
from connectors.outgoing_webhooks import emit_event, subscribed_events
from connectors.quickbooks import oauth
from sierra_sync.errors import NotFoundError, SierraError

log = logging.getLogger("sierra_sync.qbo.tokens")

REFRESH_MARGIN = timedelta(minutes=5)


class ReauthorizationRequiredError(SierraError):
    """The connection has no usable refresh token: a person must connect QuickBooks again."""


def access_context(integration_id: uuid.UUID) -> str:
    return f"integrations:{integration_id}:access_token"


def refresh_context(integration_id: uuid.UUID) -> str:
    return f"integrations:{integration_id}:refresh_token"


def sealed_token_values(
    integration_id: uuid.UUID, tokens: oauth.TokenSet, keyring: Keyring, now: datetime
) -> dict[str, object]:
    """Column values that store a token response (sealed) on an integration row."""
    return {
        "access_token": keyring.seal(tokens.access_token, access_context(integration_id)),
        "refresh_token": keyring.seal(tokens.refresh_token, refresh_context(integration_id)),
        "token_key_id": keyring.current.key_id,
        "token_type": "Bearer",
        "expires_at": tokens.expires_at,
        "refresh_token_expires_at": tokens.refresh_expires_at,
        "refresh_token_hard_expires_at": tokens.refresh_hard_expires_at,
        "token_refreshed_at": now,
        "scope": tokens.scope,
    }


def lock_integration(session: Session, integration_id: uuid.UUID) -> Integration:
    """Load the integration row holding a lock that serialises token writers across processes."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite locks the whole database for writing; this no-op write takes that lock now, not at commit.
        session.execute(
            update(table_of(Integration))
            .where(table_of(Integration).c.id == integration_id)
            .values(token_version=table_of(Integration).c.token_version)
        )
        row = session.get(Integration, integration_id, populate_existing=True)
    else:
        session.execute(text("SET LOCAL lock_timeout = '30s'"))
        row = session.get(Integration, integration_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFoundError(f"integration {integration_id} does not exist")
    return row


@dataclass
class DbTokenSource:
    """The TokenSource of one QuickBooks connection (see connectors/quickbooks/auth.py)."""

    sessions: sessionmaker[Session]
    integration_id: uuid.UUID
    keyring: Keyring
    app: oauth.OAuthApp
    http: httpx.Client
    endpoints: oauth.Endpoints | None = None
    margin: timedelta = REFRESH_MARGIN
    clock: Callable[[], datetime] = utcnow
    refreshes: int = 0  # how many refresh grants this instance sent (for tests and metrics)

    def _endpoints(self) -> oauth.Endpoints:
        if self.endpoints is None:
            self.endpoints = oauth.discover(self.http, self.app.discovery_url)
        return self.endpoints

    def _read(self) -> Integration:
        with self.sessions() as session:
            row = session.get(Integration, self.integration_id)
            if row is None:
                raise NotFoundError(f"integration {self.integration_id} does not exist")
            session.expunge(row)
            return row

    def _usable(self, row: Integration) -> bool:
        return bool(row.access_token and row.expires_at and row.expires_at - self.clock() > self.margin)

    def _check_connected(self, row: Integration) -> None:
        if row.connection_status == "expired" or not row.refresh_token:
            raise ReauthorizationRequiredError(
                row.status_message
                or "this company's QuickBooks connection has no valid authorization; reconnect with "
                "`sierra-sync connect quickbooks --company …`"
            )

    def access_token(self) -> str:
        """A valid access token; refreshes first when fewer than `margin` remain."""
        row = self._read()
        self._check_connected(row)
        if self._usable(row):
            return self.keyring.open(row.access_token or "", access_context(row.id))
        return self._refresh(seen_version=row.token_version, rejected=None)

    def refresh_after_401(self, rejected_token: str) -> str:
        """QuickBooks refused `rejected_token`: refresh once, unless another worker already replaced it."""
        row = self._read()
        self._check_connected(row)
        if row.access_token:
            current = self.keyring.open(row.access_token, access_context(row.id))
            if current != rejected_token:
                return current  # already replaced by another worker's refresh
        return self._refresh(seen_version=row.token_version, rejected=rejected_token)

    def _refresh(self, *, seen_version: int, rejected: str | None) -> str:
        failure: SierraError | None = None
        with self.sessions() as session, session.begin():
            row = lock_integration(session, self.integration_id)
            self._check_connected(row)
            current = (
                self.keyring.open(row.access_token, access_context(row.id)) if row.access_token else None
            )
            # Another worker refreshed while we waited for the lock: use its token.
            someone_refreshed = row.token_version != seen_version and current is not None
            still_good = self._usable(row) if rejected is None else current != rejected
            if someone_refreshed and still_good and current is not None:
                return current
            refresh_token = self.keyring.open(row.refresh_token or "", refresh_context(row.id))
            now = self.clock()
            try:
                tokens = oauth.refresh(self.http, self.app, self._endpoints(), refresh_token)
            except oauth.InvalidGrantError as err:
                log.warning("QuickBooks refused the refresh token of integration %s: invalid_grant", row.id)
                row.connection_status = "expired"
                row.is_connected = False
                row.status_message = err.message
                row.last_sync_error = err.message
                failure = err
                if "integration.expired" in subscribed_events(session, row.company_id):
                    emit_event(
                        session,
                        row.company_id,
                        "integration.expired",
                        {
                            "integration_id": str(row.id),
                            "provider": "quickbooks_online",
                            "message": err.message,
                        },
                        event_id=f"evt_expired_{row.id.hex}_{row.token_version}",
                    )
            else:
                self.refreshes += 1
                values = sealed_token_values(row.id, tokens, self.keyring, now)
                t = table_of(Integration)
                result = session.execute(
                    update(t)
                    .where(t.c.id == row.id, t.c.token_version == row.token_version)
                    .values(**values, token_version=t.c.token_version + 1, updated_at=now)
                )
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    raise SierraError("the QuickBooks tokens changed during a refresh; retry the operation")
                log.info("refreshed the QuickBooks access token of integration %s", row.id)
        if failure is not None:
            raise failure
        return tokens.access_token


def refresh_due(row: Integration, now: datetime, margin: timedelta = REFRESH_MARGIN) -> bool:
    """True when the access token of `row` expires within `margin` (what rotate-tokens sweeps)."""
    return row.expires_at is None or row.expires_at - now <= margin
