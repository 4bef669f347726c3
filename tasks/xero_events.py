"""Xero event tasks: the stored Xero events answered with one pull per connection (the company's change
feed through the Xero adapter, `tasks.accounting_events`)."""

from __future__ import annotations

from typing import Any

from prefect import task

from connectors.xero import events
from tasks import accounting_events
from tasks.accounting_events import pull_company

__all__ = ["process_xero_event_inbox", "pull_company"]


@task(name="process-xero-event-inbox")
def process_xero_event_inbox(inbox_ids: list[str] | None = None, debounce: float = 0.5) -> dict[str, Any]:
    """Answer the given Xero events (None: every pending one) with one pull per connection."""
    return accounting_events.process_inbox(events.EVENTS, inbox_ids, debounce, pull=pull_company)
