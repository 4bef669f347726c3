"""Notifications through a Prefect notification block (any NotificationBlock: Slack, Teams, a custom
webhook …), named by SIERRA_NOTIFY_BLOCK as "block-type-slug/block-name", or the bare name of a SlackWebhook
(whose url takes any apprise URL) or CustomWebhookNotificationBlock. Not configured: nothing is sent."""

from __future__ import annotations

import logging
import os
from typing import cast

from prefect.blocks.abstract import NotificationBlock
from prefect.blocks.core import Block
from prefect.blocks.notifications import CustomWebhookNotificationBlock, SlackWebhook

log = logging.getLogger("sierra_sync.notify")

NOTIFY_ENV = "SIERRA_NOTIFY_BLOCK"


def configured_block_name() -> str | None:
    """SIERRA_NOTIFY_BLOCK: "block-type-slug/name", or the bare name of a Slack or custom-webhook block."""
    return os.environ.get(NOTIFY_ENV, "").strip() or None


def _load(name: str) -> Block:
    if "/" in name:
        return cast(Block, Block.load(name))  # sync context: the block itself
    for cls in (SlackWebhook, CustomWebhookNotificationBlock):
        try:
            return cast(Block, cls.load(name))
        except ValueError:
            continue
    raise ValueError(f"no Slack or custom-webhook notification block named {name!r}")


def load_notifier() -> NotificationBlock | None:
    """The configured notification block, or None (not configured, or it cannot be loaded: a warning)."""
    name = configured_block_name()
    if name is None:
        return None
    try:
        block = _load(name)
    except (ValueError, KeyError) as err:
        log.warning("notification block %s cannot be loaded (%s); no notification sent", name, err)
        return None
    if not isinstance(block, NotificationBlock):
        log.warning("block %s is not a notification block; no notification sent", name)
        return None
    return block


def send(subject: str, body: str) -> bool:
    """Send one message; True when a configured block accepted it. Never raises for a delivery failure:
    a sync must not fail because Slack is down."""
    block = load_notifier()
    if block is None:
        return False
    try:
        block.notify(body, subject=subject)  # type: ignore[unused-coroutine]  # sync call: runs it
    except Exception as err:  # apprise and httpx raise many types; the sync result matters more
        log.warning("notification not delivered through %s: %s", configured_block_name(), type(err).__name__)
        return False
    return True


__all__ = ["NOTIFY_ENV", "configured_block_name", "load_notifier", "send"]
