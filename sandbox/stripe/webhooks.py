"""Stripe's webhooks on the kit's `WebhookSender`: what an endpoint is (its `enabled_events`, platform or
Connect), which endpoints an event goes to, and Stripe's signature, `Stripe-Signature: t=…,v1=…` over
`"{t}.{body}"`.

The kit's sender does the rest: a queue and a sender per endpoint (a dead or hanging receiver only ever
delays its own deliveries), a deadline per attempt (`webhook_timeout_seconds`, connecting included), retries
doubling from `webhook_retry_base_seconds` up to `webhook_retry_max_seconds`, `webhook_max_attempts`, the
delivery log. Secrets never appear in logs or in the admin API's views.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sandbox.kit.webhooks import Delivery, Endpoint, Signing, WebhookSender, signature_headers
from sandbox.stripe.options import StripeSandboxOptions

__all__ = ["SIGNING", "StripeEndpoint", "new_sender", "sign", "subscribed"]

SIGNING = Signing(
    scheme="hmac_timestamped",
    header="Stripe-Signature",
    signature_item="v1",
    signed_format="{timestamp}.{body}",
)


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The Stripe-Signature header value for `payload` sent at `timestamp`."""
    return signature_headers(SIGNING, secret, payload, "", timestamp)[SIGNING.header]


@dataclass
class StripeEndpoint(Endpoint):
    """A registered receiver: the events it takes, from the platform or (`connect`) connected accounts."""

    enabled_events: list[str] | None = None
    connect: bool = False
    enabled: bool = True

    def wants(self, event_type: str, connect: bool = False) -> bool:
        """Whether this endpoint takes `event_type` (`*` or the exact type) from the platform or Connect."""
        if not self.enabled or self.connect != connect:
            return False
        events = self.enabled_events or []
        return "*" in events or event_type in events


def subscribed(sender: WebhookSender, event_type: str, connect: bool = False) -> list[str]:
    """The ids of the enabled endpoints subscribed to `event_type` (Connect ones for connected accounts)."""
    found = sender.endpoints.values()
    return [e.id for e in found if isinstance(e, StripeEndpoint) and e.wants(event_type, connect)]


def endpoint(sender: WebhookSender, endpoint_id: str) -> StripeEndpoint:
    """A registered endpoint (KeyError when unknown)."""
    found = sender.endpoints[endpoint_id]
    if not isinstance(found, StripeEndpoint):
        raise KeyError(endpoint_id)
    return found


def new_sender(options: StripeSandboxOptions, on_delivered: Callable[[Delivery], None]) -> WebhookSender:
    """The kit's sender, configured as Stripe delivers."""
    return WebhookSender(
        SIGNING,
        "",  # every endpoint has its own secret
        attempts=options.webhook_max_attempts,
        retry_delay_s=options.webhook_retry_base_seconds,
        backoff="doubling",
        retry_max_s=options.webhook_retry_max_seconds,
        timeout_s=options.webhook_timeout_seconds,
        headers=lambda: {"User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"},
        on_delivered=on_delivered,
    )
