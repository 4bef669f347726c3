"""Xero's webhook events, acted on: an event for an organisation (tenant) starts a pull of the company
connected to it (`connectors.accounting.events` does it for every provider: one pull per connection however
many events, none for what the last pull covered, organisations nobody here is connected to ignored). Each
event flags the collections it names for that pull (`flagged_types`): the journal feed never sees contacts
or drafts. No prefect here: `tasks/xero_events.py` gives the pull."""

from __future__ import annotations

from collections.abc import Sequence

from connectors.accounting.events import Pull, WebhookPulls
from connectors.accounting.specs import ORDER
from connectors.xero.provider import XERO
from connectors.xero.sync_adapter import CATEGORY_TYPES

__all__ = [
    "EVENTS",
    "PROVIDER",
    "PULLED_TYPES",
    "Pull",
    "flagged_types",
    "inbox_handler",
    "pending_ids",
    "process_events",
]

PROVIDER = XERO.name
PULLED_TYPES = ORDER  # the pull cursors of a synced company


def flagged_types(event_type: str | None) -> Sequence[str]:
    """The entity types a stored Xero event (`xero.contact.update`) names: its collection is read by the
    pull it starts, journals never seeing contacts or drafts."""
    parts = (event_type or "").split(".")
    return CATEGORY_TYPES.get(parts[1].upper(), ()) if len(parts) > 1 else ()


EVENTS = WebhookPulls(PROVIDER, "Xero", "event", flags=flagged_types)
pending_ids = EVENTS.pending_ids
process_events = EVENTS.process_events
inbox_handler = EVENTS.inbox_handler
