"""Xero on the kit: its declaration and its webhook reader."""

from __future__ import annotations

from connectors.kit.adapter import Adapter
from connectors.xero.provider import XERO
from connectors.xero.webhooks import webhook_events

__all__ = ["ADAPTER"]

ADAPTER = Adapter(provider=XERO, parse_webhook=webhook_events)
