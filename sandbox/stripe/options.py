"""Options of the Stripe sandbox: everything `create_app` can be told, with Stripe-like defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from sandbox.stripe.state import SandboxState


@dataclass
class WebhookEndpointOptions:
    """A webhook endpoint registered at start-up: where events are POSTed and the secret that signs them."""

    url: str
    secret: str | None = None  # None: the sandbox makes a whsec_… secret (readable via the admin API)
    enabled_events: list[str] = field(default_factory=lambda: ["*"])


@dataclass
class ThrottleOptions:
    """Rate limit: more than `limit` API requests within `window_seconds` get Stripe's 429 error."""

    limit: int
    window_seconds: float = 1.0


@dataclass
class StripeSandboxOptions:
    """Stripe sandbox knobs; every field has a default: `StripeSandboxOptions()` is a working sandbox."""

    # Fault injection (also changeable at run time through POST /__sandbox/faults).
    latency_ms: int = 0
    jitter_ms: int = 0
    error_rate: float = 0.0  # share of API requests answered 500 api_error before doing anything
    drop_rate: float = (
        0.0  # share of API requests applied, then answered 500 (the client never sees the result)
    )
    drop_mode: Literal["reset", "502"] = "reset"  # a drop: the connection dies mid-response, or a bare 502
    rate_limit: ThrottleOptions | None = None
    # Money.
    fee_percent: Decimal = Decimal("2.9")
    fee_fixed_cents: int = 30
    available_after_days: int = 2  # a charge's balance transaction becomes available after this many days
    payout_arrival_days: int = 2
    # Webhooks.
    webhook_endpoints: list[WebhookEndpointOptions] = field(default_factory=list)
    webhook_auto_deliver: bool = (
        True  # deliver from a background task; False: only POST /__sandbox/webhooks/deliver
    )
    webhook_retry_base_seconds: float = (
        1.0  # backoff: base * 2**(attempt-1), capped at webhook_retry_max_seconds
    )
    webhook_retry_max_seconds: float = 300.0
    webhook_max_attempts: int = 8
    webhook_timeout_seconds: float = 10.0
    # Clock and retention.
    clock_start: int | None = None  # Unix seconds the sandbox clock starts at; None: the real time
    event_retention_days: int = 30
    idempotency_retention_hours: int = 24
    # Stripe Connect: the one registered OAuth application and its redirect URIs (empty: any http(s) URI).
    connect_client_id: str = "ca_localsierrasandbox"
    connect_redirect_uris: tuple[str, ...] = ()
    # Identity and state.
    seed: int | None = None  # makes ids and fault draws reproducible
    api_version: str = "2026-10-28.endive"
    state: SandboxState | None = None  # share a state object (tests, benchmarks); None: a fresh one
    # Persistence: None keeps everything in memory; a path keeps objects, events and the clock in a JSON
    # file (written a second after a change and at shutdown, read at start). Webhook endpoints and pending
    # deliveries are not kept: the endpoints come from `webhook_endpoints` at each start. Connect (accounts,
    # grants, tokens) is kept in the kit's SQLite file next to it (`persist.connect_file`).
    state_file: str | None = None
