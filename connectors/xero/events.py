"""Xero's webhook events, acted on: an event for an organisation (tenant) starts a pull of the company
connected to it (`connectors.accounting.events` does it for every provider: one pull per connection however
many events, none for what the last pull covered, organisations nobody here is connected to ignored). No
prefect here: `tasks/xero_events.py` gives the pull."""

from __future__ import annotations

from connectors.accounting.events import Pull, WebhookPulls
from connectors.accounting.specs import ORDER
from connectors.xero.provider import XERO

__all__ = [
    "EVENTS",
    "PROVIDER",
    "PULLED_TYPES",
    "Pull",
    "inbox_handler",
    "pending_ids",
    "process_events",
]

PROVIDER = XERO.name
PULLED_TYPES = ORDER  # the pull cursors of a synced company
EVENTS = WebhookPulls(PROVIDER, "Xero", "event")
pending_ids = EVENTS.pending_ids
process_events = EVENTS.process_events
inbox_handler = EVENTS.inbox_handler
