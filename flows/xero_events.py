"""process-xero-events: Xero's webhook events answered by a pull of the company connected to the event's
organisation, one pull per connection however many events arrived."""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from tasks.xero_events import process_xero_event_inbox

DEPLOYMENT = "process-xero-events/process-xero-events"  # what the webhook receiver starts


@flow(name="process-xero-events", flow_run_name="Xero notifications", validate_parameters=True)
def process_xero_events(inbox_ids: list[str] | None = None, debounce: float = 0.5) -> dict[str, Any]:
    """Pull what Xero said changed: each event names an organisation (tenant); every pending event of a
    connection is answered by one incremental sync of its company, and an event the connection's last pull
    already covered needs none.

    Args:
        inbox_ids: Inbox row ids to process (the webhook receiver passes the one it stored); none: every
            pending Xero event (the scheduled sweep).
        debounce: Seconds to wait before a pull, so the rest of a burst is covered by the same pull.
    """
    summary = process_xero_event_inbox(inbox_ids, debounce=debounce)
    create_markdown_artifact(
        key="xero-notifications",
        markdown=(
            f"**Xero notifications**: {summary['pulls']} pull(s) for {summary['processed']} event(s); "
            f"{summary['covered']} already covered by an earlier pull, {summary['ignored']} for "
            f"organisations not connected here, {summary['failed']} failed (retried by the next run)."
        ),
        description="Xero notifications processed",
    )
    return summary
