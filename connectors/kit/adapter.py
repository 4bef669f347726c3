"""What a provider brings to the kit besides its declaration: how its webhooks read, and what a new
connection to its local sandbox starts with. One `Adapter` per provider, collected by the registry."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.kit.provider import Provider

__all__ = ["Adapter", "MalformedEventError", "WebhookEvent"]


class MalformedEventError(ValueError):
    """The body is not a webhook of the expected shape; `str(err)` says what is wrong (safe to log)."""


@dataclass(frozen=True)
class WebhookEvent:
    """One event of a verified webhook body, as the inbox stores it.

    `event_id` is unique per provider and stable across re-deliveries; `tenant_id` is the provider's account
    the event is about (QuickBooks realm, Stripe connected account, Xero tenant), used to find the
    connection; `company_id` when the payload names our company directly (Stripe metadata)."""

    event_id: str
    event_type: str
    payload: dict[str, Any]
    tenant_id: str | None = None
    company_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Adapter:
    """A provider's own parts on the kit.

    `parse_webhook(body)`: the events of a verified body (`MalformedEventError` when it is not one);
    `scrub_webhook(body)`: the body as it may be stored (secrets such as client_secret removed), when the
    provider sends any; `local_settings()`: the settings a new connection to the local sandbox starts with
    (the sample company's mappings); `sync_flow`: the dashed name of the flow that syncs a connection
    (`flows.registry`; its parameters are `company` and `trigger`), None when the provider has none (its hub
    card offers connect, disconnect and health only)."""

    provider: Provider
    parse_webhook: Callable[[bytes], Sequence[WebhookEvent]] | None = None
    scrub_webhook: Callable[[bytes], bytes] | None = None
    local_settings: Callable[[], dict[str, Any]] | None = None
    sync_flow: str | None = None
