"""Outgoing webhooks: eventNotifications (or CloudEvents) POSTed with a valid `intuit-signature`.

Changes made by one request are gathered and sent as one notification from a background task (after
`webhook_batch_delay_ms`), so the API response never waits for the receiver. Failed deliveries are retried
`webhook_attempts` times, then dropped, as Intuit does. The verifier token is never logged.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from sandbox.quickbooks.options import SandboxOptions
from sandbox.quickbooks.wire import webhook_time

__all__ = ["Webhooks", "sign"]

Event = tuple[str, str, str, datetime]  # entity, id, operation, when
_PAST = {"Create": "created", "Update": "updated", "Delete": "deleted", "Void": "voided", "Merge": "merged"}
MAX_LOG = 1000


def sign(body: bytes, verifier_token: str) -> str:
    """intuit-signature: base64(HMAC-SHA256(verifier token, raw body))."""
    return base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()


class Webhooks:
    """Webhook configuration, the pending changes per realm and the delivery log."""

    def __init__(self, options: SandboxOptions, on_result: Callable[[str, bool], None]) -> None:
        self.url = options.webhook_url
        self.verifier_token = options.webhook_verifier_token
        self.format: Literal["legacy", "cloudevents"] = options.webhook_format
        self.attempts = max(1, options.webhook_attempts)
        self.retry_delay_s = options.webhook_retry_delay_s
        self.batch_delay_s = options.webhook_batch_delay_ms / 1000.0
        self._on_result = on_result
        self._pending: dict[str, list[tuple[Event, Any]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.deliveries: list[dict[str, Any]] = []

    def configure(self, changes: dict[str, Any]) -> None:
        """Change url / verifier_token / format / attempts / batch_delay_ms at run time."""
        for key, value in changes.items():
            if key == "url":
                if value is not None and not isinstance(value, str):
                    raise ValueError("url must be a string or null")
                self.url = value
            elif key == "verifier_token":
                if not isinstance(value, str) or not value:
                    raise ValueError("verifier_token must be a non-empty string")
                self.verifier_token = value
            elif key == "format":
                if value not in ("legacy", "cloudevents"):
                    raise ValueError("format must be 'legacy' or 'cloudevents'")
                self.format = value
            elif key == "attempts":
                if not isinstance(value, int) or value < 1:
                    raise ValueError("attempts must be an integer >= 1")
                self.attempts = value
            elif key == "batch_delay_ms":
                if not isinstance(value, int | float) or value < 0:
                    raise ValueError("batch_delay_ms must be >= 0")
                self.batch_delay_s = float(value) / 1000.0
            else:
                raise ValueError(f"unknown webhook setting {key}")

    def settings(self) -> dict[str, Any]:
        """The configuration, without the verifier token."""
        return {
            "url": self.url,
            "format": self.format,
            "attempts": self.attempts,
            "batch_delay_ms": self.batch_delay_s * 1000.0,
        }

    def notify(self, realm_id: str, tz: Any, events: list[Event]) -> None:
        """Queue the changes of one request; a task sends them (must run on the event loop)."""
        if not self.url or not events:
            return
        pending = self._pending.get(realm_id)
        if pending is None:
            pending = self._pending[realm_id] = []
            task = asyncio.get_running_loop().create_task(self._flush_later(realm_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        pending.extend((event, tz) for event in events)

    async def _flush_later(self, realm_id: str) -> None:
        await asyncio.sleep(self.batch_delay_s)
        events = self._pending.pop(realm_id, [])
        url = self.url
        if not events or not url:
            return
        body = self._body(realm_id, events)
        await self._deliver(realm_id, url, body)

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

    async def _deliver(self, realm_id: str, url: str, body: bytes) -> None:
        signature = sign(body, self.verifier_token)
        headers = {
            "content-type": "application/json; charset=utf-8",
            "accept": "application/json",
            "intuit-signature": signature,
            "intuit-t-id": str(uuid.uuid4()),
        }
        record: dict[str, Any] = {"realm_id": realm_id, "url": url, "body": body.decode(), "attempts": 0}
        status: int | None = None
        error: str | None = None
        async with httpx.AsyncClient(timeout=3.0) as client:
            for attempt in range(1, self.attempts + 1):
                record["attempts"] = attempt
                try:
                    response = await client.post(url, content=body, headers=headers)
                    status, error = response.status_code, None
                    if 200 <= status < 300:
                        break
                except httpx.HTTPError as exc:
                    status, error = None, type(exc).__name__
                if attempt < self.attempts:
                    await asyncio.sleep(self.retry_delay_s * attempt)
        ok = status is not None and 200 <= status < 300
        record.update({"status": status, "error": error, "delivered": ok})
        self.deliveries.append(record)
        del self.deliveries[:-MAX_LOG]
        self._on_result(realm_id, ok)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for queued notifications to be sent (tests; shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def close(self) -> None:
        """Cancel what is still pending."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=1.0)
