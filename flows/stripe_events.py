"""process-stripe-events and backfill-stripe-events: Stripe payments, refunds, declines and disputes into the
app and QuickBooks, from the webhook inbox (and, for what the webhook missed, from Stripe's event list)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow
from prefect.artifacts import create_table_artifact
from prefect.runtime import flow_run

from connectors.money_text import usd
from tasks.naming import label
from tasks.stripe_events import (
    backfill_stripe_event_inbox,
    book_stripe_payouts,
    process_stripe_event_inbox,
)

DEPLOYMENT = (
    "process-stripe-events/process-stripe-events"  # what the webhook receiver's run_deployment starts
)


def _publish(summary: dict[str, Any], title: str, key: str) -> None:
    rows = [
        {
            "event": o["event_id"],
            "type": o["event_type"],
            "status": o["status"],
            "summary": o["summary"],
            "notes": "; ".join(o["notes"]),
        }
        for o in summary["outcomes"]
    ] + [
        {
            "event": f["event_id"],
            "type": f["event_type"],
            "status": "failed",
            "summary": f["message"],
            "notes": "",
        }
        for f in summary["failures"]
    ]
    create_table_artifact(
        table=rows or [{"event": "-", "type": "-", "status": "nothing to do", "summary": "", "notes": ""}],
        key=key,
        description=f"{title}: {summary['processed']} processed, {summary['ignored']} ignored, "
        f"{summary['failed']} failed, {summary['skipped']} skipped",
    )


def _events_name() -> str:
    params = flow_run.parameters
    ids = params.get("inbox_ids")
    if params.get("all_pending") or ids is None:
        return label("Stripe events", "every waiting event")
    return label("Stripe events", f"{len(ids)} event{'s' if len(ids) != 1 else ''} from the webhook")


def _backfill_name() -> str:
    since = flow_run.parameters.get("since")
    return label("Stripe backfill", f"since {since}" if since else "since the last processed event")


@flow(name="process-stripe-events", flow_run_name=_events_name, validate_parameters=True)
def process_stripe_events(
    inbox_ids: list[str] | None = None, all_pending: bool = False, limit: int = 100
) -> dict[str, Any]:
    """Apply stored Stripe webhook events to the app and QuickBooks.

    payment_intent.succeeded records the payment, updates the invoice (paid / partially paid), records
    Stripe's fee as an expense and pushes both to QuickBooks (a Payment linked to the invoice, a Purchase);
    payment_intent.payment_failed records a declined attempt; charge.refunded records the refund, reopens
    the invoice balance and books a RefundReceipt; charge.dispute.created flags the invoice.

    Args:
        inbox_ids: Inbox row ids to process (the webhook receiver passes the one it stored).
        all_pending: Process every waiting Stripe event instead (never claimed, or failed with attempts
            left), oldest first. Also what happens when no ids are given.
        limit: At most this many events when processing all pending ones.
    """
    ids = None if all_pending else inbox_ids
    summary = process_stripe_event_inbox(ids, limit=limit, trigger="webhook")
    _publish(summary, "Stripe events", "stripe-events")
    return summary


@flow(name="backfill-stripe-events", flow_run_name=_backfill_name, validate_parameters=True)
def backfill_stripe_events(
    since: datetime | None = None, lookback_hours: float = 24.0, process: bool = True
) -> dict[str, Any]:
    """Fetch the Stripe events the webhook missed (Stripe retries for days and does not keep order) and
    process them.

    Args:
        since: List events created from then (UTC). Default: the last processed event's arrival minus
            `lookback_hours`, or Stripe's 30-day retention when nothing was processed yet.
        lookback_hours: The window behind the last processed event that is listed again.
        process: Then process every waiting Stripe event, the stored ones included (off: only store).
    """
    found = backfill_stripe_event_inbox(since, lookback_hours=lookback_hours)
    summary: dict[str, Any] = {"backfill": found}
    if process:  # what was stored, plus anything still waiting in the inbox (a failed dispatch, a retry)
        processed = process_stripe_event_inbox(None, trigger="webhook")
        _publish(processed, "Back-filled and waiting Stripe events", "stripe-backfill")
        summary["processing"] = processed
    return summary


@flow(
    name="book-stripe-payouts",
    flow_run_name="Stripe payouts · last {lookback_days} days",
    validate_parameters=True,
)
def book_stripe_payouts_flow(lookback_days: float = 7.0) -> dict[str, Any]:
    """Book Stripe payouts in QuickBooks: each paid payout becomes one Deposit per company, moving its
    card payments from Undeposited Funds (or the Stripe clearing account) to the bank account
    (`accounts.stripe_payouts_to`). The payout.paid webhook does the same as it arrives; this run catches
    what it missed. Idempotent: a payout already booked is left as it is.

    Args:
        lookback_days: Payouts created within this many days.
    """
    result = book_stripe_payouts(lookback_days)
    rows = [
        {"payout": d["payout"], "deposit": d["deposit_id"], "amount": usd(d["amount"]), "new": d["created"]}
        for d in result["deposits"]
    ]
    create_table_artifact(
        table=rows or [{"payout": "-", "deposit": "-", "amount": "-", "new": False}],
        key="stripe-payouts",
        description=f"Stripe payouts: {result['created']} deposit(s) booked, {result['failed']} failed",
    )
    return result
