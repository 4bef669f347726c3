"""Options of the QuickBooks Online sandbox: everything `create_app` can be told, with Intuit-like defaults.

Where Intuit's behaviour is unconfirmed, the option says which default was picked (see README.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sandbox.common.faults import FaultSettings
from sandbox.kit.clock import Clock

__all__ = ["SandboxOptions"]


@dataclass
class SandboxOptions:
    """Knobs of the QBO sandbox; `SandboxOptions()` is a working sandbox with Intuit's published limits."""

    # The one developer app.
    client_id: str = "local-client"
    client_secret: str = "local-secret"  # noqa: S105 - the documented local default; never logged
    # Fault injection, the default for every realm (POST /__sandbox/faults changes it at run time).
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0  # share of API requests answered 500/503 before doing anything
    drop_rate: float = 0.0  # share of writes applied, then the response dropped
    drop_mode: Literal["reset", "502", "hang"] = (
        "reset"  # reset: dies mid-response; 502; hang: client times out
    )
    drop_hang_s: float = 30.0  # how long "hang" stays silent before closing
    realm_faults: dict[str, FaultSettings] = field(
        default_factory=dict
    )  # per realm at start (overrides above)
    # Persistence: None keeps everything in memory; a path keeps realms, entities and tokens in SQLite.
    state_file: str | None = None
    # Webhooks: POST eventNotifications to this URL on every change (None: no webhooks).
    webhook_url: str | None = None
    webhook_verifier_token: str = "local-verifier-token"  # noqa: S105 - HMAC key of intuit-signature, not logged
    webhook_format: Literal["legacy", "cloudevents"] = "legacy"
    webhook_attempts: int = 3  # Intuit retries a few times, then drops the notification
    webhook_retry_delay_s: float = 0.5
    webhook_batch_delay_ms: float = 0.0  # wait this long to gather changes into one notification
    # OAuth.
    # "page": authorize shows a consent page (Approve/Deny); "deny": it redirects with error=access_denied
    consent: Literal["auto", "page", "deny"] = "auto"
    auth_code_ttl_s: int = 600
    access_token_ttl_s: int = 3600
    refresh_token_ttl_s: int = 8_726_400  # rolling ~101 days, the x_refresh_token_expires_in Intuit sends
    refresh_token_hard_ttl_s: int = 5 * 365 * 86_400  # 5-year cap from the first consent
    refresh_rotation: Literal["daily", "always"] = "daily"  # daily: value changes once per 24 h (Intuit)
    refresh_rotation_interval_s: int = 86_400
    refresh_grace_s: int = 86_400  # a superseded refresh token keeps working this long
    # Throttling (0 disables a limit).
    requests_per_minute: int = 500  # per realm
    requests_per_second: int = 0  # per realm and app; Intuit documents 10/s, off by default (0)
    concurrent_requests: int = 10  # per realm
    batch_requests_per_minute: int = 40  # per realm and app
    batch_items_count_toward_limit: bool = (
        False  # unconfirmed at Intuit: does each item count toward 500/min?
    )
    throttle_xml: bool = True  # Intuit often answers 429 in XML even when JSON was asked for
    throttle_retry_after_s: int | None = None  # send Retry-After with 429 (Intuit does not; says wait 60 s)
    # API behaviour.
    requestid_ttl_s: int = 86_400  # how long a requestid's original response is kept (unconfirmed at Intuit)
    max_results_cap: int = 1000  # MAXRESULTS above this is capped
    default_max_results: int = 100
    cdc_window_days: int = 30
    cdc_max_objects: int = 1000
    cdc_too_old: Literal["error", "clamp"] = "error"  # changedSince older than the window: fault, or clamp
    # Companies.
    timezone: str = "America/Los_Angeles"  # offset of `time` and MetaData (follows daylight saving)
    multicurrency: bool = True  # entities carry CurrencyRef/ExchangeRate/Home* amounts, as in the captures
    online_payments: bool = True  # companies take online payments: include=invoiceLink gets a link
    # What a new company starts with (consent or admin API without "seed"): "sample" (Intuit-like lists and
    # transactions), "lists" (the same lists, no transactions) or "empty".
    new_company: Literal["sample", "lists", "empty"] = "sample"
    # Determinism and wiring.
    clock: Clock | None = None  # injectable clock; None: real time
    seed: int | None = None  # makes fault draws and generated tokens' randomness reproducible (faults only)
    public_url: str | None = None  # base URL in the discovery document; None: taken from the Host header

    def fault_settings(self) -> FaultSettings:
        """The default fault settings of every realm."""
        return FaultSettings(
            latency_ms=self.latency_ms,
            jitter_ms=self.jitter_ms,
            error_rate=self.error_rate,
            drop_rate=self.drop_rate,
            drop_mode=self.drop_mode,
            drop_hang_s=self.drop_hang_s,
        )
