"""Xero's webhooks from the sandbox: a save that creates or updates contacts or invoices sends one signed
delivery (`x-xero-signature`, base64 HMAC-SHA256 of the body under the webhook key) with an event per
document; `POST /__sandbox/webhooks/intent` runs Xero's intent-to-receive check against the configured URL:
an empty, correctly signed delivery must get 200 and the same with a wrong signature 401, within 5 s."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import time
from datetime import datetime
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.kit.webhooks import WebhookSender

__all__ = ["CATEGORIES", "EventSender"]

CATEGORIES = {"Contacts": "CONTACT", "Invoices": "INVOICE"}
WITHIN_S = 5.0


def _entropy() -> str:
    return secrets.token_urlsafe(15)


class EventSender:
    """Builds Xero's deliveries and hands them to the kit's sender."""

    def __init__(self, sender: WebhookSender) -> None:
        self.sender = sender
        self._sequence = itertools.count(1)

    def changed(
        self, tenant: str, resource: str, changes: list[tuple[str, bool]], base: str, now: datetime
    ) -> None:
        """`changes`: (document id, created) of one save; nothing is sent without a URL."""
        category = CATEGORIES.get(resource)
        if category is None or not changes or not self.sender.url:
            return
        when = now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        events = [
            {
                "resourceUrl": f"{base}/{resource}/{doc_id}",
                "resourceId": doc_id,
                "eventDateUtc": when,
                "eventType": "CREATE" if created else "UPDATE",
                "eventCategory": category,
                "tenantId": tenant,
                "tenantType": "ORGANISATION",
            }
            for doc_id, created in changes
        ]
        numbers = [next(self._sequence) for _ in events]
        body = {
            "events": events,
            "firstEventSequence": numbers[0],
            "lastEventSequence": numbers[-1],
            "entropy": _entropy(),
        }
        self.sender.send(tenant, json.dumps(body, separators=(",", ":")).encode())

    async def intent_to_receive(self, request: Request) -> Response:
        """Xero's check of a new webhook URL (admin: POST /__sandbox/webhooks/intent)."""
        url = self.sender.url
        if not url:
            return JSONResponse(
                {"error": 'no webhook url is set: POST /__sandbox/webhooks {"url": ...} first'}, 400
            )
        body = json.dumps(
            {"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": _entropy()},
            separators=(",", ":"),
        ).encode()
        answers: dict[str, Any] = {}
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=WITHIN_S) as client:
            for name, key in (("signed", self.sender.secret), ("badly_signed", secrets.token_urlsafe(24))):
                digest = hmac.new(key.encode(), body, hashlib.sha256).digest()
                headers = {
                    "content-type": "application/json",
                    "x-xero-signature": base64.b64encode(digest).decode(),
                }
                try:
                    answers[name] = (await client.post(url, content=body, headers=headers)).status_code
                except httpx.HTTPError as exc:
                    answers[name] = type(exc).__name__
        seconds = round(time.monotonic() - started, 3)
        passed = answers == {"signed": 200, "badly_signed": 401} and seconds < WITHIN_S
        return JSONResponse({"passed": passed, "answers": answers, "seconds": seconds})
