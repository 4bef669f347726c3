"""Configuration from the environment (prefix SIERRA_), read once per process through `get_settings()`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from sierra_core.errors import ConfigError


class Settings(BaseSettings):
    """Settings that flags do not set. Every field maps to SIERRA_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="SIERRA_", extra="ignore")

    data_dir: Path = Field(default=Path(".sierra"), description="Where the embedded defaults keep files.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the app database; default: a SQLite file under data_dir.",
    )
    host: str = Field(default="127.0.0.1", description="Interface the local servers bind to.")
    qbo_port: int = Field(default=8701, ge=0, le=65535, description="Port of the local QuickBooks sandbox.")
    stripe_port: int = Field(default=8702, ge=0, le=65535, description="Port of the local Stripe sandbox.")
    api_port: int = Field(default=8703, ge=0, le=65535, description="Port of the API / webhook receiver.")
    xero_port: int = Field(default=8704, ge=0, le=65535, description="Port of the local Xero sandbox.")
    webhooks_allow_private_targets: bool = Field(
        default=False,
        description="Let outgoing webhooks go to private addresses (127.0.0.1, 10.x …) and plain http: "
        "development and tests only; off, subscriptions must be public https endpoints.",
    )
    webhooks_allowed_ports: str = Field(
        default="",
        description="Ports outgoing webhooks may use besides 443 and 8443, comma-separated "
        "(e.g. 9443,10443).",
    )
    hub_cookie_secret: str | None = Field(
        default=None,
        repr=False,
        description="Signs the hub's session cookies (32+ characters); unset: /hub is not served.",
    )
    hub_handoff_secret: str | None = Field(
        default=None,
        repr=False,
        description="Shared with the host SaaS: signs its hand-off tokens (docs/hub.md).",
    )
    hub_local_login: bool = Field(default=False, description="Email + password sign-in for seeded hub users.")
    hub_cookie_secure: bool = Field(default=True, description="Hub cookies over https only (off: http dev).")
    qbo_retry_attempts: int = Field(default=4, ge=1, description="Tries per QuickBooks request (layer 1).")
    qbo_retry_initial_wait: float = Field(
        default=1.0, ge=0, description="First backoff wait in seconds (then 2x, 4x … with jitter)."
    )
    qbo_max_throttle_wait: float = Field(
        default=300.0, ge=0, description="Longest wait after a 429 (QuickBooks wants 60 s if no Retry-After)."
    )
    xero_retry_initial_wait: float = Field(
        default=1.0, ge=0, description="First backoff wait in seconds of a Xero request (then 2x, 4x …)."
    )
    xero_max_throttle_wait: float = Field(
        default=300.0, ge=0, description="Longest wait after a Xero 429 (Xero's Retry-After is often 60 s)."
    )
    stop_grace_seconds: float = Field(
        default=8.0,
        ge=0,
        description="After SIGTERM/SIGINT, how long a long-running command waits for the work in hand "
        "(a push's batch request in flight) before it stops without it; keep it below the supervisor's kill "
        "timeout (Docker 10 s, Kubernetes 30 s, systemd 90 s).",
    )

    sync_lease_seconds: float = Field(
        default=20.0,
        gt=0,
        description="Lease of a sync attempt in progress, renewed every quarter of it while the worker runs; "
        "once it has passed (the worker died), the next retry sweep recovers the attempt.",
    )

    def webhook_ports(self) -> frozenset[int]:
        """SIERRA_WEBHOOKS_ALLOWED_PORTS as port numbers; ConfigError (one line) when it is not that."""
        ports: set[int] = set()
        for item in self.webhooks_allowed_ports.split(","):
            text = item.strip()
            if not text:
                continue
            if not text.isdigit() or not 0 < int(text) < 65536:
                raise ConfigError(
                    "SIERRA_WEBHOOKS_ALLOWED_PORTS must be port numbers (1-65535) separated by commas, "
                    f"e.g. 9443,10443; {text[:20]!r} is not one"
                )
            ports.add(int(text))
        return frozenset(ports)

    def resolved_database_url(self) -> str:
        """The database URL in force: SIERRA_DATABASE_URL, or the SQLite file under data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sierra.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment; a bad value is one ConfigError naming its variable."""
    try:
        return Settings()
    except ValidationError as err:
        problems = "; ".join(
            f"SIERRA_{str(e['loc'][0]).upper()}: {e['msg']}" if e["loc"] else e["msg"] for e in err.errors()
        )
        raise ConfigError(f"bad setting in the environment: {problems}") from None
