"""process-quickbooks-events: Intuit's change notifications pulled into the app (CDC), one pull per
connection however many notifications arrived."""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from tasks.quickbooks_events import process_quickbooks_event_inbox

DEPLOYMENT = "process-quickbooks-events/process-quickbooks-events"  # what the webhook receiver starts


@flow(name="process-quickbooks-events", flow_run_name="QuickBooks notifications", validate_parameters=True)
def process_quickbooks_events(inbox_ids: list[str] | None = None, debounce: float = 0.5) -> dict[str, Any]:
    """Pull what Intuit said changed: each notification names a realm; every pending notification of a
    connection is answered by one CDC pull, and a notification the connection's last pull already covered
    needs none.

    Args:
        inbox_ids: Inbox row ids to process (the webhook receiver passes the one it stored); none: every
            pending QuickBooks notification (the scheduled sweep).
        debounce: Seconds to wait before a pull, so the rest of a burst is covered by the same pull.
    """
    summary = process_quickbooks_event_inbox(inbox_ids, debounce=debounce)
    create_markdown_artifact(
        key="quickbooks-notifications",
        markdown=(
            f"**QuickBooks notifications**: {summary['pulls']} pull(s) for {summary['processed']} "
            f"notification(s); {summary['covered']} already covered by an earlier pull, {summary['ignored']} "
            f"for realms not connected here, {summary['failed']} failed (retried by the next run)."
        ),
        description="QuickBooks notifications processed",
    )
    return summary
