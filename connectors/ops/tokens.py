"""Token upkeep for every QuickBooks connection: refresh access tokens close to expiry (through
DbTokenSource, so the one-refresh-at-a-time rule holds), and flag connections a person must re-authorize
(refresh token expiring soon, or rejected by Intuit)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.crypto import Keyring
from connectors.db.models import Company, Integration
from connectors.db.models.base import table_of
from connectors.db.types import utcnow
from connectors.quickbooks import oauth
from connectors.quickbooks.tokens import DbTokenSource, refresh_due
from sierra_sync.errors import SierraError

log = logging.getLogger("sierra_sync.ops.tokens")

REAUTH_PREFIX = "re-authorize:"


@dataclass
class TokenReport:
    checked: int = 0
    refreshed: int = 0
    still_valid: int = 0
    reauthorize_soon: int = 0
    rejected: int = 0
    errors: int = 0
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if k != "warnings"}


def reauthorize_message(company: str, ends: datetime) -> str:
    return (
        f"{REAUTH_PREFIX} the QuickBooks authorization of {company} ends on {ends:%Y-%m-%d}; "
        f'reconnect with `sierra-sync connect quickbooks --company "{company}"` before then'
    )


def _flag(sessions: sessionmaker[Session], integration_id: uuid.UUID, message: str | None) -> None:
    t = table_of(Integration)
    with sessions.begin() as session:
        session.execute(update(t).where(t.c.id == integration_id).values(status_message=message))


def refresh_all(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    app: oauth.OAuthApp,
    http: httpx.Client,
    *,
    refresh_within: timedelta = timedelta(minutes=15),
    reauthorize_within: timedelta = timedelta(days=30),
    clock: Callable[[], datetime] = utcnow,
) -> TokenReport:
    """Refresh due access tokens of every connected QuickBooks integration, one connection at a time."""
    report = TokenReport()
    with sessions() as session:
        rows = session.execute(
            select(Integration, Company.name)
            .join(Company, Company.id == Integration.company_id)
            .where(
                Integration.integration_type == "quickbooks_online",
                Integration.is_active.is_(True),
                Integration.connection_status == "connected",
            )
            .order_by(Company.name)
        ).all()
        for row, _ in rows:
            session.expunge(row)
    endpoints: oauth.Endpoints | None = None
    for row, company in rows:
        report.checked += 1
        now = clock()
        ends = [t for t in (row.refresh_token_expires_at, row.refresh_token_hard_expires_at) if t is not None]
        if ends and min(ends) - now <= reauthorize_within:
            message = reauthorize_message(company, min(ends))
            if row.status_message != message:
                _flag(sessions, row.id, message)
            report.reauthorize_soon += 1
            report.warnings.append(message)
        elif row.status_message and row.status_message.startswith(REAUTH_PREFIX):
            _flag(sessions, row.id, None)  # reconnected since: the flag no longer holds
        if not refresh_due(row, now, refresh_within):
            report.still_valid += 1
            continue
        source = DbTokenSource(
            sessions, row.id, keyring, app, http, endpoints=endpoints, margin=refresh_within
        )
        try:
            source.access_token()
        except oauth.InvalidGrantError:
            # DbTokenSource marked the connection expired; syncs stop until a person reconnects.
            report.rejected += 1
            report.warnings.append(
                f"{REAUTH_PREFIX} QuickBooks rejected the refresh token of {company}; "
                f'reconnect with `sierra-sync connect quickbooks --company "{company}"`'
            )
            continue
        except SierraError as err:
            report.errors += 1
            report.warnings.append(f"{company}: token refresh failed: {err.message}")
            continue
        endpoints = source.endpoints
        if source.refreshes:
            report.refreshed += 1
        else:
            report.still_valid += 1  # another worker refreshed it while we waited for the lock
    for warning in report.warnings:
        log.warning("%s", warning)
    return report


__all__ = ["REAUTH_PREFIX", "TokenReport", "reauthorize_message", "refresh_all"]
