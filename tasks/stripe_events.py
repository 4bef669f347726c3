"""Stripe event tasks: process stored events, back-fill missed ones; plus the in-process webhook handler.

Each task builds its own database sessions, Stripe gateway (from the Secret blocks) and QuickBooks clients
(one per company, opened only when an event needs it) and returns a small JSON-ready summary.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import get_run_logger, task
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blocks.stripe import stripe_gateway
from connectors.quickbooks.connection import INTEGRATION_TYPE
from connectors.stripe.gateway import StripeGateway
from connectors.stripe_events import (
    EventContext,
    QuickBooksLink,
    QuickBooksOpener,
    backfill_events,
    claimable_events,
    handle_claimed,
    payouts,
    run_events,
)
from sierra_core.db.models import Integration
from sierra_core.errors import SierraError
from sierra_core.inbox import InboxEvent
from tasks.push import flow_run_id
from tasks.runtime import app_engine, company_sync, sessions

__all__ = [
    "backfill_stripe_event_inbox",
    "book_stripe_payouts",
    "event_context",
    "inbox_handler",
    "process_stripe_event_inbox",
]

MAX_LISTED = 200


def quickbooks_opener(factory: sessionmaker[Session] | None = None) -> QuickBooksOpener:
    """Opens a company's QuickBooks client through `company_sync`; None when it is not connected."""

    @contextmanager
    def open_company(company_id: uuid.UUID) -> Iterator[QuickBooksLink | None]:
        with (factory or sessions())() as session:
            connected = session.scalar(
                select(Integration.id).where(
                    Integration.company_id == company_id,
                    Integration.integration_type == INTEGRATION_TYPE,
                    Integration.connection_status == "connected",
                )
            )
        if connected is None:
            yield None
            return
        with company_sync(company_id) as cs:
            yield QuickBooksLink(cs.client, cs.target)

    return open_company


def event_context(
    *,
    factory: sessionmaker[Session] | None = None,
    gateway: Callable[[], StripeGateway] | None = stripe_gateway,
    trigger: str = "webhook",
    run_id: str | None = None,
) -> EventContext:
    """An EventContext on the app database, the saved Stripe blocks and the companies' QuickBooks links."""
    factory = factory or sessions()
    return EventContext(
        factory, gateway=gateway, quickbooks=quickbooks_opener(factory), trigger=trigger, flow_run_id=run_id
    )


def inbox_handler(factory: sessionmaker[Session] | None = None) -> Callable[[InboxEvent], str]:
    """The handler `sierra-sync api serve` registers for provider "stripe" when no deployment is served:
    events are processed in the web process, right after they are acknowledged."""
    ctx = event_context(factory=factory)
    # Create this process's engine now: handlers run on several threads at once, and two first calls of
    # `engine_for` racing would each make an engine (one of them never disposed).
    app_engine()
    return lambda event: handle_claimed(ctx, event)


def _trim(summary: dict[str, Any]) -> dict[str, Any]:
    summary["outcomes"] = summary["outcomes"][:MAX_LISTED]
    summary["failures"] = summary["failures"][:MAX_LISTED]
    return summary


@task(name="process-stripe-event-inbox", task_run_name="apply Stripe events · {trigger}")
def process_stripe_event_inbox(
    inbox_ids: list[str] | None = None, limit: int = 100, trigger: str = "webhook"
) -> dict[str, Any]:
    """Process the given inbox events (None: every waiting Stripe event, oldest first, up to `limit`)."""
    logger = get_run_logger()
    ctx = event_context(trigger=trigger, run_id=flow_run_id())
    ids = (
        [uuid.UUID(i) for i in inbox_ids]
        if inbox_ids is not None
        else claimable_events(ctx.sessions, limit=limit)
    )
    run = run_events(ctx, ids)
    logger.info(
        "Stripe events: %s processed, %s ignored, %s failed, %s skipped",
        run.processed,
        run.ignored,
        run.failed,
        run.skipped,
    )
    for failure in run.failures[:20]:
        logger.warning("%s (%s): %s", failure["event_id"], failure["event_type"], failure["message"])
    return _trim(run.as_dict())


@task(name="backfill-stripe-event-inbox", task_run_name="list missed Stripe events")
def backfill_stripe_event_inbox(
    since: datetime | None = None, lookback_hours: float = 24.0
) -> dict[str, Any]:
    """Store the Stripe events the inbox lacks; returns the new inbox ids (oldest first)."""
    logger = get_run_logger()
    result = backfill_events(
        sessions(), stripe_gateway(), since=since, lookback=timedelta(hours=lookback_hours)
    )
    if result.clamped:
        logger.warning(
            "Stripe keeps events for 30 days: back-filled from %s; reconcile older gaps (reconcile flow)",
            result.since.isoformat(),
        )
    logger.info(
        "Stripe events since %s: %s listed, %s new",
        result.since.isoformat(),
        result.listed,
        len(result.stored),
    )
    return {
        "since": result.since.isoformat(),
        "clamped": result.clamped,
        "listed": result.listed,
        "stored": [str(e.id) for e in result.stored],
        "stored_event_ids": [e.event_id for e in result.stored][:MAX_LISTED],
    }


@task(name="book-stripe-payouts", task_run_name="book Stripe payouts · last {lookback_days} days")
def book_stripe_payouts(lookback_days: float = 7.0) -> dict[str, Any]:
    """Book every paid Stripe payout created in the last `lookback_days` days that is not booked yet (one
    Deposit per company); those already booked cost one lookup each."""
    logger = get_run_logger()
    gateway = stripe_gateway()
    factory = sessions()
    now = datetime.now(UTC)
    booked: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []
    for payout in gateway.list_paid_payouts(now - timedelta(days=lookback_days)):
        try:
            done = payouts.book_payout(
                factory,
                gateway,
                payout,
                quickbooks_opener(factory),
                trigger="scheduled",
                flow_run_id=flow_run_id(),
            )
        except SierraError as err:
            failures.append({"payout": str(payout["id"]), "message": err.message})
            logger.warning("Stripe payout %s not booked: %s", payout["id"], err.message)
            continue
        booked += [
            {
                "payout": b.payout_id,
                "company_id": str(b.company_id),
                "deposit_id": b.deposit_id,
                "amount": str(b.amount),
                "created": b.created,
            }
            for b in done
        ]
    made = sum(1 for b in booked if b["created"])
    logger.info(
        "Stripe payouts: %s deposit(s) booked, %s already booked, %s failed",
        made,
        len(booked) - made,
        len(failures),
    )
    return {"deposits": booked, "created": made, "failed": len(failures), "failures": failures[:MAX_LISTED]}
