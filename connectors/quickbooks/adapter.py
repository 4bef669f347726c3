"""QuickBooks Online on the kit: its declaration, its webhook reader, and the local sandbox's mappings."""

from __future__ import annotations

from connectors.kit.adapter import Adapter
from connectors.quickbooks.provider import QUICKBOOKS
from connectors.quickbooks.settings import sample_company_settings
from connectors.quickbooks.webhooks import webhook_events

__all__ = ["ADAPTER"]

ADAPTER = Adapter(
    provider=QUICKBOOKS,
    parse_webhook=webhook_events,
    local_settings=lambda: sample_company_settings().to_json(),
    sync_flow="incremental-sync",
)
