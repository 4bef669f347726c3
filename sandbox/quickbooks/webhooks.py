"""Outgoing webhooks: eventNotifications (or CloudEvents) POSTed with a valid `intuit-signature`.

Changes made by one request are gathered and sent as one notification from a background task (after
`webhook_batch_delay_ms`), so the API response never waits for the receiver. Delivery, signing and retries
(`webhook_attempts` times, then dropped, as Intuit does) are the kit's `WebhookSender`; this module is what
QuickBooks sends. The verifier token is never logged.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from sandbox.kit.webhooks import Signing, WebhookSender, signature_headers
from sandbox.quickbooks.options import SandboxOptions
from sandbox.quickbooks.wire import webhook_time

__all__ = ["SIGNING", "Webhooks", "intuit_headers", "sign"]

Event = tuple[str, str, str, datetime]  # entity, id, operation, when
_PAST = {"Create": "created", "Update": "updated", "Delete": "deleted", "Void": "voided", "Merge": "merged"}
SIGNING = Signing(scheme="hmac_body", header="intuit-signature", encoding="base64")


def sign(body: bytes, verifier_token: str) -> str:
    """intuit-signature: base64(HMAC-SHA256(verifier token, raw body))."""
    return signature_headers(SIGNING, verifier_token, body, "", 0.0)[SIGNING.header]


def intuit_headers() -> dict[str, str]:
    """The per-delivery id Intuit sends."""
    return {"intuit-t-id": str(uuid.uuid4())}


class Webhooks:
    """QBO's webhook settings (format, batching) and the pending changes per realm, sent by the kit's
    sender."""

    def __init__(self, options: SandboxOptions, sender: WebhookSender) -> None:
        self.sender = sender
        self.format: Literal["legacy", "cloudevents"] = options.webhook_format
        self.batch_delay_s = options.webhook_batch_delay_ms / 1000.0
        self._pending: dict[str, list[tuple[Event, Any]]] = {}

    def configure(self, changes: dict[str, Any]) -> None:
        """Change url / verifier_token / format / attempts / batch_delay_ms at run time."""
        rest: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "format":
                if value not in ("legacy", "cloudevents"):
                    raise ValueError("format must be 'legacy' or 'cloudevents'")
                self.format = value
            elif key == "batch_delay_ms":
                if not isinstance(value, int | float) or value < 0:
                    raise ValueError("batch_delay_ms must be >= 0")
                self.batch_delay_s = float(value) / 1000.0
            else:
                rest[key] = value
        self.sender.configure(rest)

    def settings(self) -> dict[str, Any]:
        """The configuration, without the verifier token."""
        return {
            "url": self.sender.url,
            "format": self.format,
            "attempts": self.sender.attempts,
            "batch_delay_ms": self.batch_delay_s * 1000.0,
        }

    def notify(self, realm_id: str, tz: Any, events: list[Event]) -> None:
        """Queue the changes of one request; a task sends them (must run on the event loop)."""
        if not self.sender.url or not events:
            return
        pending = self._pending.get(realm_id)
        if pending is None:
            pending = self._pending[realm_id] = []
            self.sender.schedule(self._flush_later(realm_id))
        pending.extend((event, tz) for event in events)

    async def _flush_later(self, realm_id: str) -> None:
        await asyncio.sleep(self.batch_delay_s)
        events = self._pending.pop(realm_id, [])
        url = self.sender.url
        if not events or not url:
            return
        await self.sender.deliver(realm_id, url, self._body(realm_id, events))

    def _body(self, realm_id: str, events: list[tuple[Event, Any]]) -> bytes:
        if self.format == "cloudevents":
            cloud = [
                {
                    "specversion": "1.0",
                    "id": str(uuid.uuid4()),
                    "source": "intuit.sandbox",
                    "type": f"qbo.{entity.lower()}.{_PAST.get(op, op.lower())}.v1",
                    "datacontenttype": "application/json",
                    "time": when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "intuitentityid": entity_id,
                    "intuitaccountid": realm_id,
                    "data": {},
                }
                for (entity, entity_id, op, when), _tz in events
            ]
            return json.dumps(cloud, separators=(",", ":")).encode()
        legacy = {
            "eventNotifications": [
                {
                    "realmId": realm_id,
                    "dataChangeEvent": {
                        "entities": [
                            {
                                "name": entity,
                                "id": entity_id,
                                "operation": op,
                                "lastUpdated": webhook_time(when, tz),
                            }
                            for (entity, entity_id, op, when), tz in events
                        ]
                    },
                }
            ]
        }
        return json.dumps(legacy, separators=(",", ":")).encode()
