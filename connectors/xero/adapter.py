"""Xero on the kit: its declaration, its webhook reader, and the flow that syncs a connection (the hub's
"Sync now" starts it for the company: incremental-sync syncs a company kept in Xero like one kept in
QuickBooks)."""

from __future__ import annotations

from connectors.kit.adapter import Adapter
from connectors.xero.provider import XERO
from connectors.xero.webhooks import webhook_events

__all__ = ["ADAPTER"]

ADAPTER = Adapter(provider=XERO, parse_webhook=webhook_events, sync_flow="incremental-sync")
