"""One card per provider of the kit's registry: status, last sync, counts and health, read in a few
queries. A provider added to `connectors/kit/registry.py` gets its card with no code here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.kit.adapter import Adapter
from connectors.kit.registry import ADAPTERS
from connectors.ops.health import token_status
from sierra_core.db.models import EntityLink, Integration, IntegrationHealth, IntegrationSyncLog
from sierra_core.db.types import utcnow

__all__ = ["Card", "LastSync", "card_for", "cards"]

WINDOW = timedelta(hours=24)
REAUTHORIZE_WITHIN = timedelta(days=30)
# connection_status -> (label, tone): tone drives the colour and the icon (never the colour alone).
STATUS = {
    "connected": ("Connected", "success"),
    "expired": ("Authorization expired", "warning"),
    "error": ("Error", "danger"),
    "connecting": ("Connecting", "info"),
    "disconnected": ("Not connected", "neutral"),
}
HEALTH_TONE = {"healthy": "success", "degraded": "warning", "failing": "danger"}


@dataclass(frozen=True)
class LastSync:
    at: datetime
    status: str
    error: str | None


@dataclass(frozen=True)
class Card:
    adapter: Adapter
    row: Integration | None
    last_sync: LastSync | None
    linked: dict[str, int]
    succeeded_24h: int
    failed_24h: int
    open_failures: int
    last_error: str | None
    health: IntegrationHealth | None
    token: str | None

    @property
    def name(self) -> str:
        return self.adapter.provider.name

    @property
    def title(self) -> str:
        return self.adapter.provider.title

    @property
    def status(self) -> str:
        return self.row.connection_status if self.row is not None else "disconnected"

    @property
    def status_label(self) -> str:
        return STATUS.get(self.status, (self.status, "neutral"))[0]

    @property
    def tone(self) -> str:
        return STATUS.get(self.status, (self.status, "neutral"))[1]

    @property
    def connected(self) -> bool:
        return self.status == "connected"

    @property
    def needs_reauthorize(self) -> bool:
        return self.status in ("expired", "error") or self.token in ("expired", "reauthorize_soon")

    @property
    def health_tone(self) -> str:
        return HEALTH_TONE.get(self.health.status, "neutral") if self.health else "neutral"

    @property
    def account(self) -> str | None:
        if self.row is None or not self.row.external_company_id:
            return None
        name = (self.row.settings or {}).get("external_company_name")
        return f"{name} ({self.row.external_company_id})" if name else self.row.external_company_id

    @property
    def records_linked(self) -> int:
        return sum(self.linked.values())


def _last_syncs(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, LastSync]:
    log = IntegrationSyncLog
    latest = (
        select(log.integration_id, func.max(log.started_at).label("at"))
        .where(log.integration_id.in_(ids), log.status.in_(("success", "failed")))
        .group_by(log.integration_id)
        .subquery()
    )
    rows = session.execute(
        select(log.integration_id, log.started_at, log.completed_at, log.status, log.error_message).join(
            latest, (latest.c.integration_id == log.integration_id) & (latest.c.at == log.started_at)
        )
    ).all()
    return {r[0]: LastSync(r[2] or r[1], r[3], r[4]) for r in rows}


def _counts(session: Session, ids: list[uuid.UUID], now: datetime) -> dict[uuid.UUID, tuple[int, int, int]]:
    log = IntegrationSyncLog
    since = now - WINDOW
    rows = session.execute(
        select(
            log.integration_id,
            func.count().filter(log.started_at >= since, log.status == "success"),
            func.count().filter(log.started_at >= since, log.status == "failed"),
            func.count().filter(log.status == "failed", log.retried_by_id.is_(None)),
        )
        .where(log.integration_id.in_(ids))
        .group_by(log.integration_id)
    ).all()
    return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}


def _open_error(session: Session, integration_id: uuid.UUID) -> str | None:
    log = IntegrationSyncLog
    return session.scalar(
        select(log.error_message)
        .where(log.integration_id == integration_id, log.status == "failed", log.retried_by_id.is_(None))
        .order_by(log.started_at.desc())
        .limit(1)
    )


def _linked(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    out: dict[uuid.UUID, dict[str, int]] = {}
    for iid, kind, count in session.execute(
        select(EntityLink.integration_id, EntityLink.entity_type, func.count())
        .where(EntityLink.integration_id.in_(ids))
        .group_by(EntityLink.integration_id, EntityLink.entity_type)
    ).all():
        out.setdefault(iid, {})[kind] = int(count)
    return out


def _token(adapter: Adapter, row: Integration | None, now: datetime) -> str | None:
    if row is None or not row.is_connected:
        return None
    auth = adapter.provider.auth
    if getattr(auth, "refresh", None) is not None and auth.refresh.kind == "none":  # type: ignore[union-attr]
        return "valid"  # tokens that never expire (Stripe Connect)
    return token_status(row, now, REAUTHORIZE_WITHIN)


def cards(session: Session, company_id: uuid.UUID, now: datetime | None = None) -> list[Card]:
    """The company's cards, in the registry's order."""
    now = now or utcnow()
    rows = {
        r.integration_type: r
        for r in session.scalars(select(Integration).where(Integration.company_id == company_id))
    }
    ids = [r.id for r in rows.values()]
    last = _last_syncs(session, ids) if ids else {}
    counts = _counts(session, ids, now) if ids else {}
    linked = _linked(session, ids) if ids else {}
    health = (
        {
            h.integration_id: h
            for h in session.scalars(
                select(IntegrationHealth).where(IntegrationHealth.integration_id.in_(ids))
            )
        }
        if ids
        else {}
    )
    out = []
    for name, adapter in ADAPTERS.items():
        row = rows.get(name)
        ok, failed, open_failures = counts.get(row.id, (0, 0, 0)) if row else (0, 0, 0)
        out.append(
            Card(
                adapter=adapter,
                row=row,
                last_sync=last.get(row.id) if row else None,
                linked=linked.get(row.id, {}) if row else {},
                succeeded_24h=ok,
                failed_24h=failed,
                open_failures=open_failures,
                last_error=_open_error(session, row.id) if row and open_failures else None,
                health=health.get(row.id) if row else None,
                token=_token(adapter, row, now),
            )
        )
    return out


def card_for(session: Session, company_id: uuid.UUID, provider: str) -> Card | None:
    return next((c for c in cards(session, company_id) if c.name == provider), None)


def jsonable(card: Card) -> dict[str, Any]:
    """What the card's status fragment answers (polled while a sync runs)."""
    return {
        "provider": card.name,
        "status": card.status,
        "status_label": card.status_label,
        "last_sync_at": card.last_sync.at.isoformat() if card.last_sync else None,
        "last_sync_status": card.last_sync.status if card.last_sync else None,
        "records_linked": card.records_linked,
        "open_failures": card.open_failures,
    }
