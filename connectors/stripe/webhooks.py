"""Stripe's webhook bodies: one event envelope each (pure functions; the kit verifies Stripe-Signature first).

The event's company: `metadata.company_id` on the object when it names one (the platform account serves
every company), else the connected account (`account`, Stripe Connect) that the kit maps to its connection.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from connectors.kit.adapter import MalformedEventError, WebhookEvent

__all__ = ["parse_stripe", "webhook_events"]

_MAX_EVENT_ID = 255


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MalformedEventError("the body is not valid JSON") from None


def parse_stripe(body: bytes) -> dict[str, Any]:
    """A Stripe event envelope (`id` evt_…, `type`), or `MalformedEventError`."""
    event = _json(body)
    if not isinstance(event, dict):
        raise MalformedEventError("a Stripe event must be a JSON object")
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not event_id or len(event_id) > _MAX_EVENT_ID:
        raise MalformedEventError("the Stripe event has no usable id")
    if not isinstance(event_type, str) or not event_type:
        raise MalformedEventError("the Stripe event has no type")
    if event.get("object", "event") != "event":
        raise MalformedEventError("the body is not a Stripe event object")
    return event


def _company_of(event: Mapping[str, Any]) -> uuid.UUID | None:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    metadata = obj.get("metadata") if isinstance(obj, Mapping) else None
    raw = metadata.get("company_id") if isinstance(metadata, Mapping) else None
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


def webhook_events(body: bytes) -> list[WebhookEvent]:
    """The kit's view of a Stripe webhook body: the one event, with its company or connected account."""
    event = parse_stripe(body)
    account = event.get("account")
    return [
        WebhookEvent(
            str(event["id"]),
            str(event["type"]),
            event,
            tenant_id=account if isinstance(account, str) and account else None,
            company_id=_company_of(event),
        )
    ]
