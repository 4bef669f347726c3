"""The helper flows call at their end: a failed or degraded sync sends one message through the
configured Prefect notification block (SIERRA_NOTIFY_BLOCK); nothing happens when none is configured."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger

from blocks import notify
from connectors.ops.messages import health_problems, sync_problems


def notify_sync_problems(company: str, flow_name: str, summary: dict[str, Any]) -> bool:
    """Send what failed (company, record, error, fix) when `summary` holds failures; True when sent."""
    if notify.configured_block_name() is None:
        return False
    message = sync_problems(company, flow_name, summary)
    if message is None:
        return False
    sent = notify.send(*message)
    if sent:
        get_run_logger().info("notification sent: %s", message[0])
    return sent


def notify_health_problems(rows: list[dict[str, Any]]) -> bool:
    if notify.configured_block_name() is None:
        return False
    message = health_problems(rows)
    return notify.send(*message) if message is not None else False
