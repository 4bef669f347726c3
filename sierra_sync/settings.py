"""Configuration from the environment (prefix SIERRA_), read once per process through `get_settings()`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings that flags do not set. Every field maps to SIERRA_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="SIERRA_", extra="ignore")

    data_dir: Path = Field(default=Path(".sierra"), description="Where the embedded defaults keep files.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the app database; default: a SQLite file under data_dir.",
    )
    host: str = Field(default="127.0.0.1", description="Interface the local servers bind to.")
    qbo_port: int = Field(default=8701, description="Port of the local QuickBooks sandbox.")
    stripe_port: int = Field(default=8702, description="Port of the local Stripe sandbox.")
    api_port: int = Field(default=8703, description="Port of the API / webhook receiver.")
    webhooks_allow_private_targets: bool = Field(
        default=False,
        description="Let outgoing webhooks go to private addresses (127.0.0.1, 10.x …) and plain http: "
        "development and tests only; off, subscriptions must be public https endpoints.",
    )
    qbo_retry_attempts: int = Field(default=4, ge=1, description="Tries per QuickBooks request (layer 1).")
    qbo_retry_initial_wait: float = Field(
        default=1.0, ge=0, description="First backoff wait in seconds (then 2x, 4x … with jitter)."
    )
    qbo_max_throttle_wait: float = Field(
        default=300.0, ge=0, description="Longest wait after a 429 (QuickBooks wants 60 s if no Retry-After)."
    )
    stop_grace_seconds: float = Field(
        default=8.0,
        ge=0,
        description="After SIGTERM/SIGINT, how long a long-running command waits for the work in hand "
        "(a push's batch request in flight) before it stops without it; keep it below the supervisor's kill "
        "timeout (Docker 10 s, Kubernetes 30 s, systemd 90 s).",
    )

    def resolved_database_url(self) -> str:
        """The database URL in force: SIERRA_DATABASE_URL, or the SQLite file under data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sierra.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
