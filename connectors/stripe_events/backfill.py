"""Fetch the Stripe events the webhook missed and store them in the inbox (processing is the caller's).

Stripe retries a delivery for up to three days and keeps events listable for 30; it does not deliver in
order, so "since the last processed event" is taken with a look-back window (default one day) and the
inbox's unique event id drops what is already there.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.stripe.gateway import EVENT_RETENTION, StripeGateway, backfill_start
from connectors.stripe.types import StripeEvent
from connectors.stripe_events.process import HANDLED_TYPES
from sierra_core import inbox
from sierra_core.db.models import Company, Integration, WebhookEvent
from sierra_core.inbox import InboxEvent, NewEvent

__all__ = ["DEFAULT_LOOKBACK", "Backfill", "backfill_events", "last_processed_at", "owner_of", "store_listed"]

DEFAULT_LOOKBACK = timedelta(days=1)


def last_processed_at(sessions: sessionmaker[Session]) -> datetime | None:
    """When the newest processed (or ignored) Stripe event was received; None when none was."""
    with sessions() as session:
        newest: datetime | None = session.scalar(
            select(func.max(WebhookEvent.received_at)).where(
                WebhookEvent.provider == "stripe", WebhookEvent.status.in_(("processed", "ignored"))
            )
        )
        return newest


def owner_of(session: Session, event: Mapping[str, Any]) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """(company, Stripe integration) from `data.object.metadata.company_id` when that company exists."""
    data = event.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    metadata = obj.get("metadata") if isinstance(obj, Mapping) else None
    raw = metadata.get("company_id") if isinstance(metadata, Mapping) else None
    try:
        company_id = uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None, None
    if company_id is None or session.get(Company, company_id) is None:
        return None, None
    integration_id = session.scalar(
        select(Integration.id).where(
            Integration.company_id == company_id, Integration.integration_type == "stripe"
        )
    )
    return company_id, integration_id


@dataclass(frozen=True)
class Backfill:
    """What a backfill found: where it started, whether Stripe's 30 days cut it short, the events listed
    and the ones that were missing from the inbox (now stored, oldest first)."""

    since: datetime
    clamped: bool
    listed: int
    stored: tuple[InboxEvent, ...]


def store_listed(sessions: sessionmaker[Session], events: Iterable[StripeEvent]) -> list[InboxEvent]:
    """Store listed events the inbox lacks; returns the new ones, oldest first."""
    ordered = sorted(events, key=lambda e: (e.created, e.id))
    new: list[InboxEvent] = []
    with sessions.begin() as session:
        for event in ordered:
            company_id, integration_id = owner_of(session, event.payload)
            stored = inbox.store_events(
                session,
                [
                    NewEvent(
                        provider="stripe",
                        event_id=event.id,
                        event_type=event.type,
                        raw_payload=json.dumps(event.payload, separators=(",", ":")),
                        payload=event.payload,
                        company_id=company_id,
                        integration_id=integration_id,
                    )
                ],
            )
            new.extend(s.event for s in stored if not s.duplicate)
    return new


def backfill_events(
    sessions: sessionmaker[Session],
    gateway: StripeGateway,
    *,
    since: datetime | None = None,
    lookback: timedelta = DEFAULT_LOOKBACK,
    now: datetime | None = None,
) -> Backfill:
    """List the handled event types since `since` (default: the last processed event minus `lookback`,
    or Stripe's 30 days when nothing was processed yet) and store those the inbox lacks."""
    now = now or datetime.now(UTC)
    if since is None:
        last = last_processed_at(sessions)
        since = last - lookback if last is not None else now - EVENT_RETENTION
    if since.tzinfo is None:
        raise ValueError("since must be timezone-aware (UTC)")
    start, clamped = backfill_start(since, now)
    listed = list(gateway.list_events(start, types=HANDLED_TYPES, now=now))
    stored = store_listed(sessions, listed)
    return Backfill(start, clamped, len(listed), tuple(stored))
