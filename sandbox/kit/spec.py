"""What a provider declares to get a kit sandbox (`SandboxSpec`), and the knobs of one running sandbox
(`KitOptions`). The provider's own resources are Starlette routes handed to `Kit.app(routes)`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sandbox.common.faults import FaultSettings
from sandbox.kit.clock import Clock
from sandbox.kit.oauth import OAuthServer, OAuthSpec
from sandbox.kit.throttle import Limits
from sandbox.kit.webhooks import Signing

__all__ = ["KitOptions", "SandboxSpec"]


@dataclass
class SandboxSpec:
    """A provider's sandbox, declared.

    `scope_param`: the name of a tenant in the admin API's faults, stats and limits (QBO: "realm");
    `tenant_body_key`: its key in POST /__sandbox/tokens (QBO: "realm_id"); `stats_key`: the list of
    tenants in GET /__sandbox/stats (QBO: "realms"). `oauth_server`: the OAuth server class (subclass it for
    a flow of its own, e.g. Stripe Connect's). `signing`: how its webhooks are signed (None: it sends none);
    `webhook_secret_name`: the secret's name in POST /__sandbox/webhooks (QBO: "verifier_token")."""

    name: str
    title: str
    oauth: OAuthSpec | None = None
    oauth_server: type[OAuthServer] = OAuthServer
    signing: Signing | None = None
    webhook_secret_name: str = "secret"  # noqa: S105 - a field name
    scope_param: str = "tenant"
    tenant_body_key: str = "tenant_id"
    stats_key: str = "tenants"
    default_port: int = 0


@dataclass
class KitOptions:
    """Run-time knobs of one sandbox, the same for every provider."""

    clock: Clock | None = None  # None: real time
    seed: int | None = None  # reproducible fault draws
    state_file: str | None = None  # SQLite file that keeps state across restarts
    faults: FaultSettings = field(default_factory=FaultSettings)
    scope_faults: Mapping[str, FaultSettings] = field(default_factory=dict)
    limits: Limits | None = None  # None: no throttling
    webhook_url: str | None = None
    webhook_secret: str = "local-webhook-secret"  # noqa: S105 - the documented local default; never logged
    webhook_attempts: int = 3
    webhook_retry_delay_s: float = 0.5
    public_url: str | None = None  # base URL in the discovery document (None: from the Host header)
