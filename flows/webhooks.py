"""deliver-webhooks: send due outgoing-webhook deliveries; schedule it every minute.

The backoff is durable (each failed attempt sets the delivery's next attempt time: base x 2^(n-1)), so a
delivery survives a stopped worker; several runs at once never send the same attempt twice (claims lease
the rows). A subscription whose deliveries keep failing is disabled with a WARNING line.
"""

from __future__ import annotations

import time
from typing import Any

from prefect import flow, get_run_logger

from tasks.webhooks import deliver_due_webhooks


@flow(name="deliver-webhooks", flow_run_name="deliver webhooks")
def deliver_webhooks(
    base_delay_s: float = 30.0, disable_after: int = 5, timeout_s: float = 10.0, run_for_s: float = 0.0
) -> dict[str, Any]:
    """Send what is due, once, or keep sweeping every few seconds for `run_for_s` seconds.

    Args:
        base_delay_s: Delay before the first retry; doubles with each attempt (capped at an hour).
        disable_after: Failed deliveries in a row that disable a subscription.
        timeout_s: Per-request timeout towards the subscriber.
        run_for_s: 0 for one sweep; else sweep again every 5 s until this many seconds have passed.
    """
    logger = get_run_logger()
    deadline = time.monotonic() + run_for_s
    totals: dict[str, Any] = {
        "sent": 0,
        "succeeded": 0,
        "retrying": 0,
        "failed": 0,
        "disabled_subscriptions": [],
    }
    while True:
        result = deliver_due_webhooks(base_delay_s, disable_after, timeout_s)
        for name in ("sent", "succeeded", "retrying", "failed"):
            totals[name] += result[name]
        totals["disabled_subscriptions"] += result["disabled_subscriptions"]
        for sub_id in result["disabled_subscriptions"]:
            logger.warning("webhook subscription %s disabled after repeated failed deliveries", sub_id)
        if time.monotonic() >= deadline:
            break
        time.sleep(5)
    logger.info(
        "webhooks: %s sent, %s delivered, %s to retry, %s failed",
        totals["sent"],
        totals["succeeded"],
        totals["retrying"],
        totals["failed"],
    )
    return totals
