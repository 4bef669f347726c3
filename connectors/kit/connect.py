"""Connecting and disconnecting a company's provider: the database side of the OAuth dance, for any provider.

`begin` stores a random, single-use `state` (its SHA-256 only) bound to the company and the provider, with an
expiry and the sealed PKCE verifier; `complete` consumes that state atomically (CSRF check), exchanges the
code, learns the tenant (from the callback, the token response or the post-connect call) and stores the
tokens sealed; `disconnect` revokes at the provider and wipes the tokens here.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.kit import oauth
from connectors.kit.provider import Provider
from connectors.kit.tokens import access_context, refresh_context, sealed_token_values
from sierra_core.crypto import Keyring
from sierra_core.db.models import EntityLink, Integration, OAuthState
from sierra_core.db.models.base import table_of
from sierra_core.db.types import utcnow
from sierra_core.errors import SierraError

__all__ = [
    "TENANT_CHOICES",
    "Authorization",
    "ConnectError",
    "Tenant",
    "begin",
    "choose_tenant",
    "complete",
    "disconnect",
    "state_hash",
]

log = logging.getLogger("sierra_sync.kit.connect")

STATE_TTL = timedelta(minutes=10)
TENANT_CHOICES = "tenant_choices"  # the settings key listing the accounts a person must choose from


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


@dataclass(frozen=True)
class Tenant:
    """The account a connection reaches at the provider (QuickBooks realm, Stripe account, Xero org)."""

    id: str
    name: str | None = None


def _command(app: oauth.App) -> str:
    return f"`sierra-sync connect {app.provider.name} --company …`"


def begin(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    app: oauth.App,
    company_id: uuid.UUID,
    *,
    created_by: uuid.UUID | None = None,
    ttl: timedelta = STATE_TTL,
    extra_params: dict[str, str] | None = None,
) -> Authorization:
    """Create the consent URL for `company_id` and remember its state (and PKCE verifier)."""
    state = oauth.new_state()
    verifier = oauth.new_code_verifier() if app.oauth.mode == "code_pkce" else None
    hashed = state_hash(state)
    with sessions.begin() as session:
        session.add(
            OAuthState(
                state=hashed,
                code_verifier=keyring.seal(verifier or "", verifier_context(hashed)),
                company_id=company_id,
                integration_type=app.provider.name,
                redirect_uri=app.redirect_uri,
                created_by=created_by,
                expires_at=utcnow() + ttl,
            )
        )
    url = oauth.authorization_url(app, state, verifier, **(extra_params or {}))
    return Authorization(url=url, state=state, expires_in_seconds=int(ttl.total_seconds()))


def _consume_state(session: Session, app: oauth.App, state: str) -> OAuthState:
    hashed = state_hash(state)
    now = utcnow()
    t = table_of(OAuthState)
    taken = session.execute(
        update(t)
        .where(
            t.c.state == hashed,
            t.c.integration_type == app.provider.name,
            t.c.consumed_at.is_(None),
            t.c.expires_at > now,
        )
        .values(consumed_at=now, updated_at=now)
    )
    row = session.scalar(select(OAuthState).where(OAuthState.state == hashed))
    if taken.rowcount == 1 and row is not None:  # type: ignore[attr-defined]
        return row
    if row is None or row.integration_type != app.provider.name:
        reason = "is unknown (it may be forged: a possible CSRF attempt)"
    elif row.consumed_at is not None and row.consumed_at != now:
        reason = "was already used"
    else:
        reason = "has expired"
    raise ConnectError(
        f"this {app.provider.title} authorization response {reason}; start again with {_command(app)}"
    )


def _values(doc: Any, path: str) -> list[Any]:
    """Every value at `path` in `doc`: dotted keys and list indexes, `*` for each item of a list."""
    found = [doc]
    for part in path.split("."):
        step: list[Any] = []
        for node in found:
            if part == "*" and isinstance(node, list):
                step.extend(node)
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                step.append(node[int(part)])
            elif isinstance(node, Mapping) and part in node:
                step.append(node[part])
        found = step
    return found


def _tenants_of(doc: Any, tenant_path: str, name_path: str | None) -> list[Tenant]:
    ids = [str(v) for v in _values(doc, tenant_path) if v not in (None, "")]
    names = [str(v) if v else None for v in _values(doc, name_path)] if name_path else []
    if len(names) != len(ids):
        names = [None] * len(ids)
    return [Tenant(tenant_id, name) for tenant_id, name in zip(ids, names, strict=True)]


def _post_connect(http: httpx.Client, app: oauth.App, access_token: str) -> list[Tenant]:
    step = app.oauth.post_connect
    if step is None:
        return []
    url = step.url or app.endpoints.post_connect or app.endpoints.userinfo
    if not url:
        return []
    resp = http.get(url, headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"})
    if resp.status_code != 200:
        raise ConnectError(
            f"{app.provider.title} answered {resp.status_code} when asked which account was connected; "
            f"start again with {_command(app)}"
        )
    try:
        doc = resp.json()
    except ValueError:
        raise ConnectError(
            f"{app.provider.title} did not say which account was connected (the answer is not JSON); "
            f"start again with {_command(app)}"
        ) from None
    tenants = _tenants_of(doc, step.tenant_path, step.name_path)
    if not tenants:
        raise ConnectError(
            f"{app.provider.title} reached no account with this authorization; {_command(app)}"
        )
    return tenants


def _tenants(
    http: httpx.Client, app: oauth.App, tokens: oauth.TokenSet, callback_tenant: str | None
) -> list[Tenant]:
    if callback_tenant:
        return [Tenant(callback_tenant)]
    if tokens.extras.get("external_company_id"):
        return [Tenant(tokens.extras["external_company_id"])]
    return _post_connect(http, app, tokens.access_token)


def _choice(tenants: list[Tenant], app: oauth.App) -> tuple[Tenant | None, list[Tenant]]:
    """(the tenant to use now, the tenants a person must choose from)."""
    step = app.oauth.post_connect
    if not tenants:
        return None, []
    if len(tenants) == 1 or step is None or step.choose == "first":
        return tenants[0], []
    return None, tenants


def complete(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    app: oauth.App,
    http: httpx.Client,
    *,
    state: str,
    code: str | None,
    callback: Mapping[str, str] | None = None,
    error: str | None = None,
    connected_by: uuid.UUID | None = None,
    initial_settings: Mapping[str, Any] | None = None,
) -> uuid.UUID:
    """Finish the authorization the callback reports; returns the integration id. `callback` is the
    callback's query (its declared tenant parameter, e.g. QuickBooks' realmId, names the account).
    `initial_settings` become the connection's settings unless it already has some (a person's mappings
    always win)."""
    title = app.provider.title
    with sessions.begin() as session:  # the state is spent even if what follows fails
        pending = _consume_state(session, app, state)
        company_id, hashed = pending.company_id, pending.state
        verifier = keyring.open(pending.code_verifier, verifier_context(hashed)) or None
    if error:
        what = "the consent was declined" if error == "access_denied" else f"{title} answered {error}"
        raise ConnectError(f"{title} was not connected: {what}. Run {_command(app)} again.")
    tenant_param = app.oauth.callback_tenant_param
    callback_tenant = (callback or {}).get(tenant_param) if tenant_param else None
    if not code or (tenant_param and not callback_tenant):
        needed = f"code or {tenant_param}" if tenant_param else "code"
        raise ConnectError(f"the {title} callback lacks {needed}; start the connection again")
    tokens = oauth.exchange_code(http, app, code, verifier)
    tenant, choices = _choice(_tenants(http, app, tokens, callback_tenant), app)
    return _store(sessions, keyring, app, company_id, tokens, tenant, connected_by, initial_settings, choices)


def _choose_message(title: str, choices: list[Tenant]) -> str:
    listed = "; ".join(f"{c.name or 'unnamed'} ({c.id})" for c in choices)
    return (
        f"this {title} authorization reaches {len(choices)} organisations: {listed}. "
        "Choose the one this company syncs with; nothing syncs until then."
    )


def _check_same_books(session: Session, row: Integration, tenant_id: str, title: str) -> None:
    """Refuse to point a connection with synced records at another account (two sets of books)."""
    if not row.external_company_id or row.external_company_id == tenant_id:
        return
    links = session.scalar(
        select(func.count()).select_from(EntityLink).where(EntityLink.integration_id == row.id)
    )
    if links:
        raise ConnectError(
            f"this company is linked to {title} account {row.external_company_id} ({links} synced "
            f"records); connecting account {tenant_id} instead would mix two sets of books. "
            f"Reconnect to the same {title} account, or archive the old links first."
        )


def _store(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    app: oauth.App,
    company_id: uuid.UUID,
    tokens: oauth.TokenSet,
    tenant: Tenant | None,
    connected_by: uuid.UUID | None,
    initial_settings: Mapping[str, Any] | None,
    choices: list[Tenant] | None = None,
) -> uuid.UUID:
    title, kind = app.provider.title, app.provider.name
    now = utcnow()
    with sessions.begin() as session:
        row = session.scalar(
            select(Integration)
            .where(Integration.company_id == company_id, Integration.integration_type == kind)
            .with_for_update()
        )
        if row is None:
            row = Integration(id=uuid.uuid4(), company_id=company_id, integration_type=kind)
            session.add(row)
            session.flush()
        if choices and row.external_company_id in {c.id for c in choices}:
            # Consent again to an organisation list that holds the one already linked: keep it.
            tenant = next(c for c in choices if c.id == row.external_company_id)
            choices = []
        tenant_id = tenant.id if tenant else None
        if tenant_id:
            _check_same_books(session, row, tenant_id, title)
        for name, value in sealed_token_values(row.id, tokens, keyring, now).items():
            setattr(row, name, value)
        row.token_version = (row.token_version or 0) + 1
        if initial_settings and not row.settings:
            row.settings = dict(initial_settings)
        settings = {k: v for k, v in (row.settings or {}).items() if k != TENANT_CHOICES}
        row.is_active, row.status_message = True, None
        row.connected_at, row.connected_by = now, connected_by
        row.disconnected_at = row.disconnected_by = None
        if choices:
            row.external_company_id = None
            row.settings = {**settings, TENANT_CHOICES: [{"id": c.id, "name": c.name} for c in choices]}
            row.is_connected, row.connection_status = False, "connecting"
            row.status_message = _choose_message(title, choices)
        else:
            row.external_company_id = tenant_id
            row.settings = (
                {**settings, "external_company_name": tenant.name} if tenant and tenant.name else settings
            )
            row.is_connected, row.connection_status = True, "connected"
        integration_id = row.id
    if choices:
        log.info("company %s reached %d %s accounts: a person chooses one", company_id, len(choices), title)
        return integration_id
    log.info("company %s connected to %s account %s", company_id, title, tenant_id)
    return integration_id


def choose_tenant(
    sessions: sessionmaker[Session], provider: Provider, company_id: uuid.UUID, tenant_id: str
) -> Tenant:
    """Point the company's connection at `tenant_id`, one of the accounts its authorization reaches (the
    person's choice after a consent that reached several Xero organisations). Returns the tenant."""
    title = provider.title
    with sessions.begin() as session:
        row = session.scalar(
            select(Integration)
            .where(Integration.company_id == company_id, Integration.integration_type == provider.name)
            .with_for_update()
        )
        if row is None or not row.access_token:
            raise ConnectError(
                f"this company has no {title} authorization to choose an organisation from; "
                f"run `sierra-sync connect {provider.name} --company …` first"
            )
        settings = dict(row.settings or {})
        listed = [c for c in settings.get(TENANT_CHOICES) or [] if isinstance(c, Mapping)]
        choices = [Tenant(str(c.get("id")), str(c["name"]) if c.get("name") else None) for c in listed]
        chosen = next((c for c in choices if c.id == tenant_id), None)
        if chosen is None:
            known = ", ".join(f"{c.name or 'unnamed'} ({c.id})" for c in choices) or "none"
            raise ConnectError(
                f"{tenant_id!r} is not an organisation this {title} authorization reaches; choose one "
                f"of: {known}"
            )
        _check_same_books(session, row, chosen.id, title)
        row.external_company_id = chosen.id
        settings.pop(TENANT_CHOICES, None)
        if chosen.name:
            settings["external_company_name"] = chosen.name
        row.settings = settings
        row.is_connected, row.is_active, row.connection_status = True, True, "connected"
        row.status_message = None
    log.info("company %s chose %s account %s", company_id, title, chosen.id)
    return chosen


def disconnect(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    app: oauth.App,
    http: httpx.Client,
    company_id: uuid.UUID,
    *,
    disconnected_by: uuid.UUID | None = None,
) -> bool:
    """Revoke the connection at the provider and wipe its tokens here. False when nothing was revoked."""
    title, kind = app.provider.title, app.provider.name
    with sessions.begin() as session:
        row = session.scalar(
            select(Integration)
            .where(Integration.company_id == company_id, Integration.integration_type == kind)
            .with_for_update()
        )
        if row is None:
            return False
        revoked = False
        # Revoke the refresh token when there is one (it ends the whole grant), else the access token.
        sealed, context = (
            (row.refresh_token, refresh_context(row.id))
            if row.refresh_token
            else (row.access_token, access_context(row.id))
        )
        if sealed or row.external_company_id:
            token = keyring.open(sealed, context) if sealed else None
            try:
                oauth.revoke(http, app, token, row.external_company_id)
                revoked = True
            except oauth.InvalidGrantError:
                revoked = True  # already dead at the provider
        row.access_token = row.refresh_token = None
        row.expires_at = row.refresh_token_expires_at = row.refresh_token_hard_expires_at = None
        row.token_version += 1
        row.is_connected = row.is_active = False
        row.connection_status = "disconnected"
        row.status_message = "disconnected by a user; connect again to resume syncing"
        row.disconnected_at, row.disconnected_by = utcnow(), disconnected_by
    log.info("company %s disconnected from %s", company_id, title)
    return revoked
