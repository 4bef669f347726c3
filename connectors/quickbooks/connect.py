"""Connecting and disconnecting a company's QuickBooks: the database side of the OAuth dance.

`begin` stores a random, single-use `state` (its SHA-256 only) bound to the company, with an expiry and
the sealed PKCE verifier; `complete` consumes that state atomically (CSRF check), exchanges the code and
stores the tokens sealed; `disconnect` revokes at Intuit and wipes the tokens locally.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.crypto import Keyring
from connectors.db.models import EntityLink, Integration, OAuthState
from connectors.db.models.base import table_of
from connectors.db.types import utcnow
from connectors.quickbooks import oauth
from connectors.quickbooks.tokens import refresh_context, sealed_token_values
from sierra_sync.errors import SierraError

log = logging.getLogger("sierra_sync.qbo.connect")

STATE_TTL = timedelta(minutes=10)
INTEGRATION_TYPE = "quickbooks_online"


class ConnectError(SierraError):
    """The authorization could not be completed; the message says how to start again."""


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def verifier_context(hashed_state: str) -> str:
    return f"oauth_states:{hashed_state}:code_verifier"


@dataclass(frozen=True)
class Authorization:
    url: str
    state: str
    expires_in_seconds: int


def begin(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    app: oauth.OAuthApp,
    endpoints: oauth.Endpoints,
    company_id: uuid.UUID,
    *,
    created_by: uuid.UUID | None = None,
    ttl: timedelta = STATE_TTL,
    extra_params: dict[str, str] | None = None,
) -> Authorization:
    """Create the consent URL for `company_id` and remember its state and PKCE verifier."""
    state, verifier = oauth.new_state(), oauth.new_code_verifier()
    hashed = state_hash(state)
    with sessions.begin() as session:
        session.add(
            OAuthState(
                state=hashed,
                code_verifier=keyring.seal(verifier, verifier_context(hashed)),
                company_id=company_id,
                integration_type=INTEGRATION_TYPE,
                redirect_uri=app.redirect_uri,
                created_by=created_by,
                expires_at=utcnow() + ttl,
            )
        )
    url = oauth.authorization_url(app, endpoints, state, verifier, **(extra_params or {}))
    return Authorization(url=url, state=state, expires_in_seconds=int(ttl.total_seconds()))


def _consume_state(session: Session, state: str) -> OAuthState:
    hashed = state_hash(state)
    now = utcnow()
    t = table_of(OAuthState)
    taken = session.execute(
        update(t)
        .where(t.c.state == hashed, t.c.consumed_at.is_(None), t.c.expires_at > now)
        .values(consumed_at=now, updated_at=now)
    )
    row = session.scalar(select(OAuthState).where(OAuthState.state == hashed))
    if taken.rowcount == 1 and row is not None:  # type: ignore[attr-defined]
        return row
    if row is None:
        reason = "is unknown (it may be forged: a possible CSRF attempt)"
    elif row.consumed_at is not None and row.consumed_at != now:
        reason = "was already used"
    else:
        reason = "has expired"
    raise ConnectError(
        f"this QuickBooks authorization response {reason}; start again with `sierra-sync connect quickbooks`"
    )


def complete(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    app: oauth.OAuthApp,
    endpoints: oauth.Endpoints,
    http: httpx.Client,
    *,
    state: str,
    code: str | None,
    realm_id: str | None,
    error: str | None = None,
    connected_by: uuid.UUID | None = None,
) -> uuid.UUID:
    """Finish the authorization the callback reports; returns the integration id."""
    with sessions.begin() as session:  # the state is spent even if what follows fails
        pending = _consume_state(session, state)
        company_id, hashed = pending.company_id, pending.state
        verifier = keyring.open(pending.code_verifier, verifier_context(hashed))
    if error:
        what = "the consent was declined" if error == "access_denied" else f"Intuit answered {error}"
        raise ConnectError(
            f"QuickBooks was not connected: {what}. Run `sierra-sync connect quickbooks` again."
        )
    if not code or not realm_id:
        raise ConnectError("the QuickBooks callback lacks code or realmId; start the connection again")
    tokens = oauth.exchange_code(http, app, endpoints, code, verifier)
    now = utcnow()
    with sessions.begin() as session:
        row = session.scalar(
            select(Integration)
            .where(Integration.company_id == company_id, Integration.integration_type == INTEGRATION_TYPE)
            .with_for_update()
        )
        if row is None:
            row = Integration(id=uuid.uuid4(), company_id=company_id, integration_type=INTEGRATION_TYPE)
            session.add(row)
            session.flush()
        elif row.external_company_id and row.external_company_id != realm_id:
            links = session.scalar(
                select(func.count()).select_from(EntityLink).where(EntityLink.integration_id == row.id)
            )
            if links:
                raise ConnectError(
                    f"this company is linked to QuickBooks company {row.external_company_id} ({links} synced "
                    f"records); connecting company {realm_id} instead would mix two sets of books. Reconnect "
                    "to the same QuickBooks company, or archive the old links first."
                )
        for name, value in sealed_token_values(row.id, tokens, keyring, now).items():
            setattr(row, name, value)
        row.token_version = (row.token_version or 0) + 1
        row.external_company_id = realm_id
        row.is_active = row.is_connected = True
        row.connection_status = "connected"
        row.status_message = None
        row.connected_at, row.connected_by = now, connected_by
        row.disconnected_at = row.disconnected_by = None
        integration_id = row.id
    log.info("company %s connected to QuickBooks realm %s", company_id, realm_id)
    return integration_id


def disconnect(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    app: oauth.OAuthApp,
    endpoints: oauth.Endpoints,
    http: httpx.Client,
    company_id: uuid.UUID,
    *,
    disconnected_by: uuid.UUID | None = None,
) -> bool:
    """Revoke the connection at Intuit and wipe its tokens here. False when there was nothing to revoke."""
    with sessions.begin() as session:
        row = session.scalar(
            select(Integration)
            .where(Integration.company_id == company_id, Integration.integration_type == INTEGRATION_TYPE)
            .with_for_update()
        )
        if row is None:
            return False
        revoked = False
        if row.refresh_token:
            try:
                oauth.revoke(http, app, endpoints, keyring.open(row.refresh_token, refresh_context(row.id)))
                revoked = True
            except oauth.InvalidGrantError:
                revoked = True  # already dead at Intuit
        row.access_token = row.refresh_token = None
        row.expires_at = row.refresh_token_expires_at = row.refresh_token_hard_expires_at = None
        row.token_version += 1
        row.is_connected = row.is_active = False
        row.connection_status = "disconnected"
        row.status_message = "disconnected by a user; connect again to resume syncing"
        row.disconnected_at, row.disconnected_by = utcnow(), disconnected_by
    log.info("company %s disconnected from QuickBooks", company_id)
    return revoked
