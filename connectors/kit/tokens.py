"""Per-connection OAuth tokens of any provider, sealed in `integrations`, refreshed safely.

Rules (DESIGN.md, "Tokens"), the same for every provider:
- refresh when fewer than the provider's margin remain, or once after a 401;
- exactly one refresh at a time per connection across all processes: the refresh runs while holding the
  integration row's lock (SELECT … FOR UPDATE on PostgreSQL; on SQLite an UPDATE that takes the database
  write lock), and whoever waited re-reads the row and uses the token the winner stored;
- the rotated refresh token is committed before the new access token is returned to anyone; a provider that
  does not rotate (no refresh_token in the answer) keeps the one it had;
- the write is a compare-and-swap on `token_version`;
- invalid_grant: re-read first (a sibling outside our lock may have rotated the token); if nobody did, the
  connection is marked `expired` with a message that says to reconnect, and `integration.expired` is emitted.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import text, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.kit import oauth
from connectors.outgoing_webhooks import emit_event, subscribed_events
from sierra_core.crypto import Keyring
from sierra_core.db.models import Integration
from sierra_core.db.models.base import table_of
from sierra_core.db.types import utcnow
from sierra_core.errors import NotFoundError, SierraError

__all__ = [
    "DbTokenSource",
    "ReauthorizationRequiredError",
    "access_context",
    "lock_integration",
    "refresh_context",
    "refresh_due",
    "sealed_token_values",
]

log = logging.getLogger("sierra_sync.kit.tokens")


class ReauthorizationRequiredError(SierraError):
    """The connection has no usable authorization: a person must connect the provider again."""


def access_context(integration_id: uuid.UUID) -> str:
    return f"integrations:{integration_id}:access_token"


def refresh_context(integration_id: uuid.UUID) -> str:
    return f"integrations:{integration_id}:refresh_token"


def sealed_token_values(
    integration_id: uuid.UUID,
    tokens: oauth.TokenSet,
    keyring: Keyring,
    now: datetime,
    *,
    previous_refresh: str | None = None,
) -> dict[str, object]:
    """Column values that store a token response (sealed) on an integration row. A response without a
    refresh token keeps `previous_refresh` (already sealed) and its expiry columns."""
    values: dict[str, object] = {
        "access_token": keyring.seal(tokens.access_token, access_context(integration_id)),
        "token_key_id": keyring.current.key_id,
        "token_type": "Bearer",
        "expires_at": tokens.expires_at,
        "token_refreshed_at": now,
        "scope": tokens.scope,
    }
    if tokens.refresh_token is not None:
        values |= {
            "refresh_token": keyring.seal(tokens.refresh_token, refresh_context(integration_id)),
            "refresh_token_expires_at": tokens.refresh_expires_at,
            "refresh_token_hard_expires_at": tokens.refresh_hard_expires_at,
        }
    elif previous_refresh is None:
        values |= {"refresh_token": None, "refresh_token_expires_at": None}
    return values


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


def refresh_due(row: Integration, now: datetime, margin: timedelta) -> bool:
    """True when the access token of `row` expires within `margin` (what the token sweep refreshes).
    A token without an expiry (Stripe Connect) is never due."""
    if not row.access_token:
        return True
    return row.expires_at is not None and row.expires_at - now <= margin


@dataclass
class DbTokenSource:
    """Hands out access tokens for one stored connection of `app.provider` (see connectors/kit/auth.py).

    `assertion`: for JWT-bearer providers, makes the signed assertion a re-mint sends. `settle`: how long
    an invalid_grant waits for a sibling's refresh to land before the connection is declared expired.
    """

    sessions: sessionmaker[Session]
    integration_id: uuid.UUID
    keyring: Keyring
    app: oauth.App
    http: httpx.Client
    margin: timedelta | None = None
    clock: Callable[[], datetime] = utcnow
    assertion: Callable[[], str] | None = None
    settle: timedelta = timedelta(seconds=2)
    sleep: Callable[[float], None] = time.sleep
    refreshes: int = 0  # how many refresh grants this instance sent (for tests and metrics)
    _discovered: bool = False

    @property
    def title(self) -> str:
        return self.app.provider.title

    def _margin(self) -> timedelta:
        return self.margin if self.margin is not None else timedelta(seconds=self.app.oauth.refresh.margin_s)

    def _app(self) -> oauth.App:
        if not self._discovered:
            self.app = oauth.discover(self.http, self.app)
            self._discovered = True
        return self.app

    def _read(self) -> Integration:
        with self.sessions() as session:
            row = session.get(Integration, self.integration_id)
            if row is None:
                raise NotFoundError(f"integration {self.integration_id} does not exist")
            session.expunge(row)
            return row

    def _usable(self, row: Integration) -> bool:
        if not row.access_token:
            return False
        return row.expires_at is None or row.expires_at - self.clock() > self._margin()

    def _check_connected(self, row: Integration) -> None:
        remints = self.app.oauth.refresh.kind in ("remint", "none")
        if row.connection_status == "expired" or not (row.refresh_token or (remints and row.access_token)):
            raise ReauthorizationRequiredError(
                row.status_message
                or f"this company's {self.title} connection has no valid authorization; reconnect with "
                f"`sierra-sync connect {self.app.provider.name} --company …`"
            )

    def _open(self, sealed: str | None, context: str) -> str | None:
        return self.keyring.open(sealed, context) if sealed else None

    def access_token(self) -> str:
        """A valid access token; refreshes first when fewer than the margin remain."""
        row = self._read()
        self._check_connected(row)
        if self._usable(row):
            return self.keyring.open(row.access_token or "", access_context(row.id))
        return self._refresh(seen_version=row.token_version, rejected=None)

    def refresh_after_401(self, rejected_token: str) -> str:
        """The provider refused `rejected_token`: refresh once, unless another worker already replaced it."""
        row = self._read()
        self._check_connected(row)
        current = self._open(row.access_token, access_context(row.id))
        if current is not None and current != rejected_token:
            return current  # already replaced by another worker's refresh
        return self._refresh(seen_version=row.token_version, rejected=rejected_token)

    def _grant(self, row: Integration) -> oauth.TokenSet:
        kind = self.app.oauth.refresh.kind
        if kind == "none":
            raise ReauthorizationRequiredError(
                f"{self.title} refused this connection's access token, which never expires: it was revoked. "
                f"Reconnect with `sierra-sync connect {self.app.provider.name} --company …`."
            )
        if kind == "remint":
            return oauth.remint(self.http, self._app(), self.assertion() if self.assertion else None)
        refresh_token = self.keyring.open(row.refresh_token or "", refresh_context(row.id))
        return oauth.refresh(self.http, self._app(), refresh_token)

    def _refresh(self, *, seen_version: int, rejected: str | None) -> str:
        with self.sessions() as session, session.begin():
            row = lock_integration(session, self.integration_id)
            self._check_connected(row)
            current = self._open(row.access_token, access_context(row.id))
            # Another worker refreshed while we waited for the lock: use its token.
            someone_refreshed = row.token_version != seen_version and current is not None
            still_good = self._usable(row) if rejected is None else current != rejected
            if someone_refreshed and still_good and current is not None:
                return current
            now = self.clock()
            used_version = row.token_version
            try:
                tokens = self._grant(row)
            except oauth.InvalidGrantError as err:
                failure = err
            else:
                self.refreshes += 1
                values = sealed_token_values(
                    row.id, tokens, self.keyring, now, previous_refresh=row.refresh_token
                )
                t = table_of(Integration)
                result = session.execute(
                    update(t)
                    .where(t.c.id == row.id, t.c.token_version == row.token_version)
                    .values(**values, token_version=t.c.token_version + 1, updated_at=now)
                )
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    raise SierraError(
                        f"the {self.title} tokens changed during a refresh; retry the operation"
                    )
                log.info("refreshed the %s access token of integration %s", self.title, row.id)
                return tokens.access_token
        return self._after_invalid_grant(failure, used_version)

    def _after_invalid_grant(self, err: oauth.InvalidGrantError, used_version: int) -> str:
        """invalid_grant: a sibling outside our lock (a lock that timed out, another deployment, a writer
        that was waiting for our lock) may have rotated the token; give its write `settle` to land, re-read,
        and use its token. Only if nobody did is the connection expired (and a person told): that stops
        every sync until someone reconnects, so a moment of patience first is cheap."""
        deadline = time.monotonic() + self.settle.total_seconds()
        while True:
            row = self._read()
            if row.token_version != used_version and self._usable(row):
                log.info("the %s token of %s was refreshed by another worker: using it", self.title, row.id)
                return self.keyring.open(row.access_token or "", access_context(row.id))
            if time.monotonic() >= deadline:
                break
            self.sleep(0.05)
        with self.sessions() as session, session.begin():
            row = lock_integration(session, self.integration_id)
            if row.token_version != used_version and self._usable(row):
                log.info("the %s token of %s was refreshed by another worker: using it", self.title, row.id)
                return self.keyring.open(row.access_token or "", access_context(row.id))
            if row.token_version != used_version:
                raise err  # changed meanwhile but not usable: the caller's retry reads it again
            log.warning("%s refused the refresh token of integration %s: invalid_grant", self.title, row.id)
            row.connection_status = "expired"
            row.is_connected = False
            row.status_message = err.message
            row.last_sync_error = err.message
            if "integration.expired" in subscribed_events(session, row.company_id):
                emit_event(
                    session,
                    row.company_id,
                    "integration.expired",
                    {
                        "integration_id": str(row.id),
                        "provider": self.app.provider.name,
                        "message": err.message,
                    },
                    event_id=f"evt_expired_{row.id.hex}_{row.token_version}",
                )
        raise err
