"""Task of the deliver-webhooks flow: one sweep of due outgoing-webhook deliveries."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import httpx
from prefect import task

from blocks.loader import token_keys
from connectors.outgoing_webhooks import DeliveryPolicy, deliver_due
from sierra_core.settings import get_settings
from tasks.runtime import sessions


@task(name="deliver-due-webhooks")
def deliver_due_webhooks(base_delay_s: float, disable_after: int, timeout_s: float) -> dict[str, Any]:
    """Send every due delivery once (signed), record each attempt, schedule retries with backoff."""
    policy = DeliveryPolicy(
        base_delay_s=base_delay_s,
        disable_after=disable_after,
        timeout_s=timeout_s,
        allow_private_targets=get_settings().webhooks_allow_private_targets,
        extra_ports=get_settings().webhook_ports(),
    )
    with httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False) as client:
        result = deliver_due(sessions(), token_keys().keyring(), client, policy=policy)
    return asdict(result)
