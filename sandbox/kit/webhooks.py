"""Signed webhook deliveries with retries, for every kit sandbox.

`Signing` says how a provider proves its webhooks, with the same fields and schemes as the connector side's
declaration (`connectors.kit.provider.Webhooks`, checked by `connectors.kit.webhooks.verify`): HMAC of the
body, of URL + body, of a timestamped body ("t=...,v1=..." or a separate timestamp header), or a shared
secret echoed as is. `WebhookSender` POSTs a body from a background task (the API response never waits),
retries a failed delivery (non-2xx or a network error) `attempts` times with a growing delay, then gives up
as the providers do, and keeps a log of deliveries for the admin API. The secret is never logged or shown.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx

__all__ = ["Signing", "WebhookSender", "signature_headers"]

MAX_LOG = 1000


@dataclass(frozen=True)
class Signing:
    """How deliveries are signed (see the module docstring; field meanings as the connector's `Webhooks`)."""

    scheme: Literal["hmac_body", "hmac_url_body", "hmac_timestamped", "shared_secret"]
    header: str
    algorithm: Literal["sha256", "sha1"] = "sha256"
    encoding: Literal["hex", "base64"] = "hex"
    timestamp_header: str | None = None
    signature_item: str | None = None
    signed_format: str = "{body}"
    signature_prefix: str = ""


def _encode(signing: Signing, secret: str, message: bytes) -> str:
    algorithm = hashlib.sha256 if signing.algorithm == "sha256" else hashlib.sha1
    digest = hmac.new(secret.encode(), message, algorithm).digest()
    text = base64.b64encode(digest).decode() if signing.encoding == "base64" else digest.hex()
    return signing.signature_prefix + text


def signature_headers(signing: Signing, secret: str, body: bytes, url: str, now: float) -> dict[str, str]:
    """The headers that prove `body` (sent to `url` at `now`) comes from the sandbox."""
    if signing.scheme == "shared_secret":
        return {signing.header: secret}
    if signing.scheme == "hmac_url_body":
        return {signing.header: _encode(signing, secret, url.encode() + body)}
    if signing.scheme == "hmac_body":
        return {signing.header: _encode(signing, secret, body)}
    stamp = str(int(now))
    before, _, after = signing.signed_format.partition("{body}")
    message = before.format(timestamp=stamp).encode() + body + after.format(timestamp=stamp).encode()
    signature = _encode(signing, secret, message)
    if signing.signature_item:
        return {signing.header: f"t={stamp},{signing.signature_item}={signature}"}
    return {signing.header: signature, signing.timestamp_header or "X-Timestamp": stamp}


class WebhookSender:
    """Where webhooks go, how they are signed, and the log of deliveries.

    `secret_name`: the name the admin API uses for the secret (QBO: "verifier_token"); `scope_key`: the key
    naming the scope in each logged delivery (QBO: "realm_id"); `headers`: extra headers per delivery (a
    provider's delivery id); `on_result(scope, ok)` is called after each delivery's last attempt."""

    def __init__(
        self,
        signing: Signing,
        secret: str,
        *,
        url: str | None = None,
        attempts: int = 3,
        retry_delay_s: float = 0.5,
        secret_name: str = "secret",  # noqa: S107 - a field name
        scope_key: str = "scope",
        headers: Callable[[], dict[str, str]] | None = None,
        on_result: Callable[[str, bool], None] | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.signing = signing
        self.secret = secret
        self.url = url
        self.attempts = max(1, attempts)
        self.retry_delay_s = retry_delay_s
        self.secret_name = secret_name
        self.scope_key = scope_key
        self.headers = headers
        self._on_result = on_result
        self._now = now
        self._tasks: set[asyncio.Task[None]] = set()
        self.deliveries: list[dict[str, Any]] = []

    def configure(self, changes: dict[str, Any]) -> None:
        """Change url / the secret / attempts at run time (ValueError on a bad or unknown value)."""
        for key, value in changes.items():
            if key == "url":
                if value is not None and not isinstance(value, str):
                    raise ValueError("url must be a string or null")
                self.url = value
            elif key == self.secret_name:
                if not isinstance(value, str) or not value:
                    raise ValueError(f"{key} must be a non-empty string")
                self.secret = value
            elif key == "attempts":
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    raise ValueError("attempts must be an integer >= 1")
                self.attempts = value
            else:
                raise ValueError(f"unknown webhook setting {key}")

    def settings(self) -> dict[str, Any]:
        """The configuration, without the secret."""
        return {"url": self.url, "attempts": self.attempts}

    def schedule(self, coro: Any) -> None:
        """Run `coro` as a background task of this sender (drained and cancelled with it)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def send(self, scope: str, body: bytes, url: str | None = None) -> bool:
        """Deliver `body` in the background (must run on the event loop); False when no URL is set."""
        target = url or self.url
        if not target:
            return False
        self.schedule(self.deliver(scope, target, body))
        return True

    async def deliver(self, scope: str, url: str, body: bytes) -> bool:
        """POST `body` to `url`, signed, retrying; logs the delivery and returns whether it landed."""
        headers = {
            "content-type": "application/json; charset=utf-8",
            "accept": "application/json",
            **(self.headers() if self.headers else {}),
            **signature_headers(self.signing, self.secret, body, url, self._now()),
        }
        record: dict[str, Any] = {self.scope_key: scope, "url": url, "body": body.decode(), "attempts": 0}
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
        if self._on_result is not None:
            self._on_result(scope, ok)
        return ok

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for queued deliveries (tests; shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def close(self) -> None:
        """Cancel what is still pending."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=1.0)
