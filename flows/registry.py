"""Every flow by its dashed name: what `sierra-sync run FLOW` and `sierra-sync serve` use."""

from __future__ import annotations

import importlib
from typing import Any

# dashed name -> "module:function"; imported lazily so one broken flow never hides the others.
FLOWS: dict[str, str] = {
    "push-to-quickbooks": "flows.push:push_to_quickbooks",
    "retry-failed-syncs": "flows.retries:retry_failed_syncs",
    "replay-failed": "flows.retries:replay_failed",
    "incremental-sync": "flows.sync:incremental_sync",
    "full-sync": "flows.sync:full_sync",
    "sync-all-companies": "flows.sync:sync_all_companies",
    "process-stripe-events": "flows.stripe_events:process_stripe_events",
    "backfill-stripe-events": "flows.stripe_events:backfill_stripe_events",
    "book-stripe-payouts": "flows.stripe_events:book_stripe_payouts_flow",
    "process-quickbooks-events": "flows.quickbooks_events:process_quickbooks_events",
    "process-xero-events": "flows.xero_events:process_xero_events",
    "rotate-tokens": "flows.operations:rotate_tokens",
    "health-check": "flows.operations:health_check",
    "reconcile": "flows.reconcile:reconcile",
    "reconcile-all-companies": "flows.reconcile_all:reconcile_all_companies",
    "deliver-webhooks": "flows.webhooks:deliver_webhooks",
}


def names() -> list[str]:
    return sorted(FLOWS)


def load(name: str) -> Any:
    module, attr = FLOWS[name].split(":")
    return getattr(importlib.import_module(module), attr)
