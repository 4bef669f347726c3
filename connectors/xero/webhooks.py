"""Xero's webhook bodies read into one inbox event per resource change, keyed by organisation (pure
functions; the kit checks x-xero-signature first).

A delivery is `{"events": [...], "firstEventSequence", "lastEventSequence", "entropy"}`; each event names
its organisation (`tenantId`), the resource (`eventCategory` INVOICE or CONTACT, `resourceId`,
`resourceUrl`), what happened (`eventType` CREATE or UPDATE) and when (`eventDateUtc`). Xero's "intent to
receive" check is a signed delivery with an empty `events` list: no event, answered 200.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from connectors.kit.adapter import MalformedEventError, WebhookEvent

__all__ = ["webhook_events"]

_PAST = {"CREATE": "created", "UPDATE": "updated", "DELETE": "deleted"}
_MAX_EVENT_ID = 255


def _text(event: Mapping[str, Any], key: str) -> str:
    value = event.get(key)
    if not isinstance(value, str) or not value.strip():
        raise MalformedEventError(f"a Xero event lacks {key}")
    return value.strip()


def _event_id(*parts: str) -> str:
    text = "xero:" + ":".join(parts)
    if len(text) <= _MAX_EVENT_ID:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _event(item: Any) -> WebhookEvent:
    if not isinstance(item, Mapping):
        raise MalformedEventError("each Xero event must be an object")
    tenant = _text(item, "tenantId")
    category = _text(item, "eventCategory").upper()
    kind = _text(item, "eventType").upper()
    resource = _text(item, "resourceId")
    occurred = _text(item, "eventDateUtc")
    operation = _PAST.get(kind, kind.lower())
    payload = {
        "tenantId": tenant,
        "tenantType": item.get("tenantType"),
        "category": category,
        "resourceId": resource,
        "resourceUrl": item.get("resourceUrl"),
        "operation": operation,
        "occurredAt": occurred,
    }
    return WebhookEvent(
        # Xero sends no event id: the same change re-delivered names the same resource, kind and instant.
        event_id=_event_id(tenant, category, resource, kind, occurred),
        event_type=f"xero.{category.lower()}.{operation}",
        payload=payload,
        tenant_id=tenant,
    )


def webhook_events(body: bytes) -> list[WebhookEvent]:
    """The events of a verified Xero delivery (none for the intent-to-receive check);
    `MalformedEventError` when the body is not a Xero delivery."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise MalformedEventError("the body is not valid JSON") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("events"), list):
        raise MalformedEventError("a Xero webhook is an object with an events list")
    return [_event(item) for item in data["events"]]
