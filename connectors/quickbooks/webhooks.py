"""Intuit's webhook bodies (the legacy `eventNotifications` object or a CloudEvents array), read into one
event per entity change with a stable id (pure functions; the kit verifies intuit-signature first)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.kit.adapter import MalformedEventError, WebhookEvent

__all__ = ["QuickBooksNotification", "parse_quickbooks", "webhook_events"]

_OPERATIONS = {
    "Create": "created",
    "Update": "updated",
    "Delete": "deleted",
    "Void": "voided",
    "Merge": "merged",
}
_MAX_EVENT_ID = 255


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MalformedEventError("the body is not valid JSON") from None


@dataclass(frozen=True)
class QuickBooksNotification:
    """One entity change from Intuit, in either format, with a stable event id.

    `payload` is normalised for processing: format, realmId, entity, entityId, operation (past tense:
    created, updated, deleted, voided, merged), occurredAt, deletedId (merges) and the original item.
    """

    event_id: str
    event_type: str
    realm_id: str
    payload: dict[str, Any]


def _stable_id(*parts: str) -> str:
    text = ":".join(parts)
    if len(text) <= _MAX_EVENT_ID:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _text(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise MalformedEventError(f"{where} lacks {key}")
    return value


def _legacy(body: Mapping[str, Any]) -> list[QuickBooksNotification]:
    notes = body.get("eventNotifications")
    if not isinstance(notes, list) or not notes:
        raise MalformedEventError("eventNotifications must be a non-empty list")
    out: list[QuickBooksNotification] = []
    for note in notes:
        if not isinstance(note, Mapping):
            raise MalformedEventError("each eventNotification must be an object")
        realm = _text(note, "realmId", "an eventNotification")
        change = note.get("dataChangeEvent")
        entities = change.get("entities") if isinstance(change, Mapping) else None
        if not isinstance(entities, list):
            raise MalformedEventError("an eventNotification lacks dataChangeEvent.entities")
        for entity in entities:
            if not isinstance(entity, Mapping):
                raise MalformedEventError("each entity change must be an object")
            name = _text(entity, "name", "an entity change")
            entity_id = _text(entity, "id", "an entity change")
            operation = _text(entity, "operation", "an entity change")
            updated = _text(entity, "lastUpdated", "an entity change")
            past = _OPERATIONS.get(operation, operation.lower())
            out.append(
                QuickBooksNotification(
                    event_id=_stable_id("legacy", realm, name, entity_id, operation, updated),
                    event_type=f"qbo.{name.lower()}.{past}",
                    realm_id=realm,
                    payload={
                        "format": "legacy",
                        "realmId": realm,
                        "entity": name,
                        "entityId": entity_id,
                        "operation": past,
                        "occurredAt": updated,
                        "deletedId": entity.get("deletedId"),
                        "notification": dict(entity),
                    },
                )
            )
    return out


def _cloudevents(items: Sequence[Any]) -> list[QuickBooksNotification]:
    out: list[QuickBooksNotification] = []
    for item in items:
        if not isinstance(item, Mapping):
            raise MalformedEventError("each CloudEvent must be an object")
        event_id = _text(item, "id", "a CloudEvent")
        event_type = _text(item, "type", "a CloudEvent")
        realm = _text(item, "intuitaccountid", "a CloudEvent")
        parts = event_type.split(".")
        if len(parts) < 3 or parts[0] != "qbo":
            raise MalformedEventError("a CloudEvent type must look like qbo.<entity>.<operation>.v1")
        data = item.get("data")
        out.append(
            QuickBooksNotification(
                event_id=_stable_id("ce", event_id),
                event_type=event_type,
                realm_id=realm,
                payload={
                    "format": "cloudevents",
                    "realmId": realm,
                    "entity": parts[1],
                    "entityId": item.get("intuitentityid"),
                    "operation": parts[2],
                    "occurredAt": item.get("time"),
                    "deletedId": data.get("deletedId") if isinstance(data, Mapping) else None,
                    "notification": dict(item),
                },
            )
        )
    if not out:
        raise MalformedEventError("the CloudEvents list is empty")
    return out


def parse_quickbooks(body: bytes) -> list[QuickBooksNotification]:
    """Every entity change in an Intuit webhook body: the legacy `eventNotifications` object or a
    CloudEvents array. `MalformedEventError` when it is neither."""
    data = _json(body)
    if isinstance(data, list):
        return _cloudevents(data)
    if isinstance(data, Mapping):
        return _legacy(data)
    raise MalformedEventError("an Intuit webhook is an eventNotifications object or a CloudEvents array")


def webhook_events(body: bytes) -> list[WebhookEvent]:
    """The kit's view of an Intuit webhook body: one inbox event per entity change, keyed by realm."""
    return [
        WebhookEvent(n.event_id, n.event_type, n.payload, tenant_id=n.realm_id)
        for n in parse_quickbooks(body)
    ]
