"""Intuit's change notifications, acted on: a notification for a realm starts a CDC pull of that connection
(`connectors.accounting.events` does it for every provider: one pull per connection however many
notifications, none for what the last pull covered, realms nobody here is connected to ignored).

    summary = process_events(sessions, pull=lambda company_id: run_one_pull(company_id), ids=None)
"""

from __future__ import annotations

from connectors.accounting.events import Pull, WebhookPulls
from connectors.quickbooks.provider import QUICKBOOKS

__all__ = [
    "EVENTS",
    "PROVIDER",
    "Pull",
    "inbox_handler",
    "pending_ids",
    "process_events",
]

PROVIDER = QUICKBOOKS.name
EVENTS = WebhookPulls(PROVIDER, "QuickBooks", "notification")
pending_ids = EVENTS.pending_ids
process_events = EVENTS.process_events
inbox_handler = EVENTS.inbox_handler
