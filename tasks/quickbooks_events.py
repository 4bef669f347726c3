"""QuickBooks notification tasks: the stored notifications answered with one CDC pull per connection
(`tasks.accounting_events`, which also gives the web app's in-process handler)."""

from __future__ import annotations

from typing import Any

from prefect import task

from connectors.quickbooks import events
from tasks import accounting_events

__all__ = ["process_quickbooks_event_inbox"]


@task(name="process-quickbooks-event-inbox")
def process_quickbooks_event_inbox(
    inbox_ids: list[str] | None = None, debounce: float = 0.5
) -> dict[str, Any]:
    """Answer the given notifications (None: every pending one) with one pull per connection."""
    return accounting_events.process_inbox(events.EVENTS, inbox_ids, debounce)
