"""Token upkeep for every connection of every provider: refresh access tokens close to expiry (through
DbTokenSource, so the one-refresh-at-a-time rule holds), keep refresh tokens alive that would die unused
(a refresh well before the provider's `lifetime_s`), and flag connections a person must re-authorize
(refresh token expiring soon, or rejected by the provider)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.kit import oauth
from connectors.kit.tokens import DbTokenSource, refresh_due
from sierra_core.crypto import Keyring
from sierra_core.db.models import Company, Integration
from sierra_core.db.models.base import table_of
from sierra_core.db.types import utcnow
from sierra_core.errors import SierraError

__all__ = ["REAUTH_PREFIX", "TokenReport", "keep_alive_due", "reauthorize_message", "refresh_all"]

log = logging.getLogger("sierra_sync.kit.upkeep")

REAUTH_PREFIX = "re-authorize:"


@dataclass
class TokenReport:
    checked: int = 0
    refreshed: int = 0
    kept_alive: int = 0
    still_valid: int = 0
    reauthorize_soon: int = 0
    rejected: int = 0
    errors: int = 0
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if k != "warnings"}


def reauthorize_message(title: str, provider: str, company: str, ends: datetime) -> str:
    return (
        f"{REAUTH_PREFIX} the {title} authorization of {company} ends on {ends:%Y-%m-%d}; "
        f'reconnect with `sierra-sync connect {provider} --company "{company}"` before then'
    )


def keep_alive_due(app: oauth.App, row: Integration, now: datetime) -> bool:
    """True when the refresh token has gone unused for half of its declared lifetime: refresh it now, or it
    dies and a person has to reconnect (Xero: 60 days; QuickBooks: 100 days)."""
    lifetime = app.oauth.refresh.lifetime_s
    if not lifetime or not row.refresh_token:
        return False
    last = row.token_refreshed_at or row.connected_at
    return last is None or now - last >= timedelta(seconds=lifetime / 2)


def _flag(sessions: sessionmaker[Session], integration_id: uuid.UUID, message: str | None) -> None:
    t = table_of(Integration)
    with sessions.begin() as session:
        session.execute(update(t).where(t.c.id == integration_id).values(status_message=message))


def refresh_all(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    apps: Mapping[str, oauth.App],
    http: httpx.Client,
    *,
    refresh_within: timedelta = timedelta(minutes=15),
    reauthorize_within: timedelta = timedelta(days=30),
    clock: Callable[[], datetime] = utcnow,
) -> TokenReport:
    """Refresh due access tokens of every connected integration of the providers in `apps` (by provider
    name), one connection at a time."""
    report = TokenReport()
    with sessions() as session:
        rows = session.execute(
            select(Integration, Company.name)
            .join(Company, Company.id == Integration.company_id)
            .where(
                Integration.integration_type.in_(list(apps)),
                Integration.is_active.is_(True),
                Integration.connection_status == "connected",
            )
            .order_by(Company.name, Integration.integration_type)
        ).all()
        for row, _ in rows:
            session.expunge(row)
    for row, company in rows:
        app = apps[row.integration_type]
        if app.oauth.refresh.kind == "none":
            continue  # tokens that never expire: nothing to keep fresh
        title, name = app.provider.title, app.provider.name
        report.checked += 1
        now = clock()
        ends = [t for t in (row.refresh_token_expires_at, row.refresh_token_hard_expires_at) if t is not None]
        if ends and min(ends) - now <= reauthorize_within:
            message = reauthorize_message(title, name, company, min(ends))
            if row.status_message != message:
                _flag(sessions, row.id, message)
            report.reauthorize_soon += 1
            report.warnings.append(message)
        elif row.status_message and row.status_message.startswith(REAUTH_PREFIX):
            _flag(sessions, row.id, None)  # reconnected since: the flag no longer holds
        keep_alive = keep_alive_due(app, row, now)
        if not keep_alive and not refresh_due(row, now, refresh_within):
            report.still_valid += 1
            continue
        # A keep-alive refresh must really reach the provider: ask for a token as if it were about to expire.
        margin = timedelta(days=36_500) if keep_alive else refresh_within
        source = DbTokenSource(sessions, row.id, keyring, app, http, margin=margin)
        try:
            source.access_token()
        except oauth.InvalidGrantError:
            # DbTokenSource marked the connection expired; syncs stop until a person reconnects.
            report.rejected += 1
            report.warnings.append(
                f"{REAUTH_PREFIX} {title} rejected the refresh token of {company}; "
                f'reconnect with `sierra-sync connect {name} --company "{company}"`'
            )
            continue
        except SierraError as err:
            report.errors += 1
            report.warnings.append(f"{company}: {title} token refresh failed: {err.message}")
            continue
        if source.refreshes and keep_alive:
            report.kept_alive += 1
        elif source.refreshes:
            report.refreshed += 1
        else:
            report.still_valid += 1  # another worker refreshed it while we waited for the lock
    for warning in report.warnings:
        log.warning("%s", warning)
    return report
