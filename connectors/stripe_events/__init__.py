"""Stripe events -> the app database and QuickBooks: payments, refunds, declines, disputes and fees.

Plain logic (never imports prefect): `process_event` / `process_inbox_event` apply one event through an
`EventContext` (database, Stripe gateway factory, QuickBooks opener); `backfill_events` stores the events
the webhook missed. The Prefect flows are `flows/stripe_events.py`; the in-process webhook handler is
`tasks.stripe_events.inbox_handler`.
"""

from connectors.stripe_events.backfill import Backfill, backfill_events, last_processed_at
from connectors.stripe_events.errors import EventShapeError, StripeEventError, UnknownInvoiceError
from connectors.stripe_events.pending import EventRun, claimable_events, handle_claimed, run_events
from connectors.stripe_events.process import (
    HANDLED_TYPES,
    EventContext,
    EventOutcome,
    QuickBooksLink,
    QuickBooksOpener,
    process_event,
    process_inbox_event,
)
from connectors.stripe_events.record import fee_expense_id_for, payment_id_for, refund_app_id

__all__ = [
    "HANDLED_TYPES",
    "Backfill",
    "EventContext",
    "EventOutcome",
    "EventRun",
    "EventShapeError",
    "QuickBooksLink",
    "QuickBooksOpener",
    "StripeEventError",
    "UnknownInvoiceError",
    "backfill_events",
    "claimable_events",
    "fee_expense_id_for",
    "handle_claimed",
    "last_processed_at",
    "payment_id_for",
    "process_event",
    "process_inbox_event",
    "refund_app_id",
    "run_events",
]
