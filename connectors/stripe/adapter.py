"""Stripe on the kit: its declaration and its webhook reader."""

from __future__ import annotations

from connectors.kit.adapter import Adapter
from connectors.stripe.provider import STRIPE
from connectors.stripe.webhooks import webhook_events

__all__ = ["ADAPTER"]

ADAPTER = Adapter(provider=STRIPE, parse_webhook=webhook_events)
