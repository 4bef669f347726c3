"""The integration tables of the product brief (integrations, integration_sync_logs,
webhook_subscriptions, api_keys, api_request_logs) and what sync needs besides them: entity links,
sync cursors, the webhook event inbox and OAuth states.

Token columns hold ciphertext only (AES-256-GCM, see sierra_core/crypto when it lands), with the id of the
key that sealed them; `token_version` is the compare-and-swap counter for rotation.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from sierra_core.db.models.base import Base, Timestamps, UUIDPk, in_check
from sierra_core.db.types import JSONDoc, StrList, UTCDateTime, utcnow

INTEGRATION_TYPES = (
    "quickbooks_online",
    "xero",
    "stripe",
    "square",
    "docusign",
    "adobe_sign",
    "gmail",
    "outlook",
    "google_calendar",
    "outlook_calendar",
    "slack",
    "zapier",
    "dropbox",
    "google_drive",
    "other",
)
CONNECTION_STATUSES = ("disconnected", "connecting", "connected", "error", "expired")
SYNC_LOG_STATUSES = ("pending", "in_progress", "success", "failed", "retrying")
SYNC_DIRECTIONS = ("push", "pull", "bidirectional")
INBOX_STATUSES = ("received", "processing", "processed", "failed", "ignored")


ACTIVE = text("is_active = true")


class Integration(UUIDPk, Timestamps, Base):
    """One connection of a company to one external service."""

    __tablename__ = "integrations"
    __table_args__ = (
        UniqueConstraint("company_id", "integration_type"),
        CheckConstraint(in_check("integration_type", INTEGRATION_TYPES), name="integration_type"),
        CheckConstraint(in_check("connection_status", CONNECTION_STATUSES), name="connection_status"),
        Index("idx_integrations_company", "company_id"),
        Index("idx_integrations_type", "integration_type"),
        Index("idx_integrations_active", "is_active", postgresql_where=ACTIVE, sqlite_where=ACTIVE),
        Index("idx_integrations_next_sync", "next_sync_at", postgresql_where=ACTIVE, sqlite_where=ACTIVE),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), nullable=False
    )
    integration_type: Mapped[str] = mapped_column(String(50), nullable=False)

    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    is_connected: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    connection_status: Mapped[str] = mapped_column(
        String(20), nullable=False, default="disconnected", server_default="disconnected"
    )
    status_message: Mapped[str | None] = mapped_column(Text)  # e.g. "re-authorize: refresh token expired"

    # OAuth credentials: ciphertext only.
    access_token: Mapped[str | None] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    token_key_id: Mapped[str | None] = mapped_column(String(64))
    token_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    token_type: Mapped[str] = mapped_column(
        String(50), nullable=False, default="Bearer", server_default="Bearer"
    )
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_token_hard_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    token_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scope: Mapped[str | None] = mapped_column(Text)

    external_company_id: Mapped[str | None] = mapped_column(String(255))  # QuickBooks realmId
    external_user_id: Mapped[str | None] = mapped_column(String(255))

    settings: Mapped[dict[str, Any]] = mapped_column(
        JSONDoc, nullable=False, default=dict, server_default=text("'{}'")
    )

    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sync_status: Mapped[str | None] = mapped_column(String(20))
    last_sync_error: Mapped[str | None] = mapped_column(Text)
    next_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    total_syncs: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    successful_syncs: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    failed_syncs: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    avg_sync_duration_ms: Mapped[int | None] = mapped_column(Integer)

    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connected_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disconnected_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class IntegrationSyncLog(UUIDPk, Timestamps, Base):
    """One sync attempt of one entity (or one whole run): the audit trail and the durable retry queue."""

    __tablename__ = "integration_sync_logs"
    __table_args__ = (
        CheckConstraint(in_check("status", SYNC_LOG_STATUSES), name="status"),
        CheckConstraint(in_check("direction", SYNC_DIRECTIONS), name="direction"),
        Index("idx_sync_logs_integration", "integration_id", text("created_at DESC")),
        Index("idx_sync_logs_status", "status"),
        Index("idx_sync_logs_entity", "entity_type", "entity_id"),
        Index(
            "idx_sync_logs_retry",
            "next_retry_at",
            postgresql_where=text("status = 'retrying'"),
            sqlite_where=text("status = 'retrying'"),
        ),
    )

    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False
    )
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), nullable=False
    )

    sync_type: Mapped[str] = mapped_column(String(30), nullable=False)
    direction: Mapped[str] = mapped_column(String(20), nullable=False)
    trigger: Mapped[str | None] = mapped_column(String(20))

    entity_type: Mapped[str | None] = mapped_column(String(30))
    entity_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    external_entity_id: Mapped[str | None] = mapped_column(String(255))

    status: Mapped[str] = mapped_column(String(20), nullable=False)
    attempt_number: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    max_retries: Mapped[int] = mapped_column(Integer, nullable=False, default=3, server_default="3")

    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)

    error_code: Mapped[str | None] = mapped_column(String(100))
    error_message: Mapped[str | None] = mapped_column(Text)
    error_details: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)

    request_payload: Mapped[Any | None] = mapped_column(JSONDoc)
    response_payload: Mapped[Any | None] = mapped_column(JSONDoc)

    next_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retry_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")

    # Beyond the brief: which run made the attempt, the idempotency key its write carried, and the attempt
    # that retried this one (a failed row nobody retried is an open failure).
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    retried_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # While `in_progress`: until when the worker running the attempt is known to be alive (it renews this
    # during the push); past it, the retry sweep recovers the attempt as left by a dead worker.
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookSubscription(UUIDPk, Timestamps, Base):
    __tablename__ = "webhook_subscriptions"
    __table_args__ = (
        Index("idx_webhooks_integration", "integration_id"),
        Index("idx_webhooks_provider", "provider"),
    )

    integration_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    company_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(50), nullable=False)
    webhook_url: Mapped[str] = mapped_column(Text, nullable=False)
    webhook_secret: Mapped[str | None] = mapped_column(Text)  # ciphertext
    # Outgoing subscriptions: after a rotation the previous secret (ciphertext) also signs deliveries until
    # it expires, so receivers can switch without rejecting a delivery.
    previous_webhook_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    events: Mapped[list[str]] = mapped_column(StrList, nullable=False, default=list)
    external_webhook_id: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=true())
    last_triggered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    trigger_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    error_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # Outgoing subscriptions (issue 10): failed deliveries in a row; past the limit it is disabled.
    consecutive_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    disabled_reason: Mapped[str | None] = mapped_column(Text)


class ApiKey(UUIDPk, Timestamps, Base):
    """A public-API key; only its SHA-256 hash (`key_value`) and a visible prefix are stored."""

    __tablename__ = "api_keys"
    __table_args__ = (
        Index("idx_api_keys_company", "company_id"),
        Index("idx_api_keys_active", "is_active", postgresql_where=ACTIVE, sqlite_where=ACTIVE),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), nullable=False
    )
    key_name: Mapped[str] = mapped_column(String(255), nullable=False)
    key_value: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    key_type: Mapped[str] = mapped_column(
        String(20), nullable=False, default="secret", server_default="secret"
    )
    environment: Mapped[str] = mapped_column(
        String(20), nullable=False, default="production", server_default="production"
    )
    permissions: Mapped[dict[str, Any]] = mapped_column(
        JSONDoc, nullable=False, default=dict, server_default=text("'{}'")
    )
    rate_limit_per_hour: Mapped[int] = mapped_column(
        Integer, nullable=False, default=1000, server_default="1000"
    )
    rate_limit_per_day: Mapped[int] = mapped_column(
        Integer, nullable=False, default=10000, server_default="10000"
    )
    total_requests: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    requests_today: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    requests_this_hour: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # The fixed windows the two counters above belong to (UTC hour and day): counted atomically in SQL.
    hour_window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    day_window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_request_ip: Mapped[str | None] = mapped_column(String(45))
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=true())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class ApiRequestLog(UUIDPk, Timestamps, Base):
    __tablename__ = "api_request_logs"
    __table_args__ = (
        Index("idx_api_logs_company", "company_id", text("created_at DESC")),
        Index("idx_api_logs_api_key", "api_key_id", text("created_at DESC")),
        Index("idx_api_logs_status", "status_code"),
    )

    api_key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    company_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    query_params: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    request_body: Mapped[Any | None] = mapped_column(JSONDoc)
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    response_body: Mapped[Any | None] = mapped_column(JSONDoc)
    response_time_ms: Mapped[int | None] = mapped_column(Integer)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(Text)
    rate_limit_exceeded: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    error_code: Mapped[str | None] = mapped_column(String(100))
    error_message: Mapped[str | None] = mapped_column(Text)


class EntityLink(UUIDPk, Timestamps, Base):
    """App id <-> external id for one integration and entity type: the first layer of idempotency."""

    __tablename__ = "entity_links"
    __table_args__ = (
        UniqueConstraint("integration_id", "entity_type", "app_id"),
        UniqueConstraint("integration_id", "entity_type", "external_id"),
    )

    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False
    )
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), nullable=False
    )
    entity_type: Mapped[str] = mapped_column(String(30), nullable=False)
    app_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    external_id: Mapped[str] = mapped_column(String(255), nullable=False)
    external_sync_token: Mapped[str | None] = mapped_column(String(32))
    last_synced_version: Mapped[int | None] = mapped_column(Integer)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SyncCursor(UUIDPk, Timestamps, Base):
    """How far a sync got, per integration, entity type and direction; commits with the data it covers."""

    __tablename__ = "sync_cursors"
    __table_args__ = (
        UniqueConstraint("integration_id", "entity_type", "direction"),
        CheckConstraint("direction IN ('push', 'pull')", name="direction"),
    )

    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False
    )
    entity_type: Mapped[str] = mapped_column(String(30), nullable=False)
    direction: Mapped[str] = mapped_column(String(10), nullable=False)
    cursor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cursor_state: Mapped[dict[str, Any]] = mapped_column(
        JSONDoc, nullable=False, default=dict, server_default=text("'{}'")
    )


class WebhookEvent(UUIDPk, Timestamps, Base):
    """The webhook inbox: every verified event once (provider + event id unique), raw body kept."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("provider", "event_id"),
        CheckConstraint(in_check("status", INBOX_STATUSES), name="status"),
        Index("ix_webhook_events_status_received", "status", "received_at"),
    )

    provider: Mapped[str] = mapped_column(String(30), nullable=False)
    event_id: Mapped[str] = mapped_column(String(255), nullable=False)
    event_type: Mapped[str | None] = mapped_column(String(100))
    company_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    integration_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    raw_payload: Mapped[str] = mapped_column(Text, nullable=False)
    payload: Mapped[Any | None] = mapped_column(JSONDoc)
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, default="received", server_default="received"
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    error_message: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OAuthState(UUIDPk, Timestamps, Base):
    """A pending OAuth authorization: random single-use state bound to a company, with the PKCE verifier."""

    __tablename__ = "oauth_states"

    state: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    code_verifier: Mapped[str] = mapped_column(Text, nullable=False)  # ciphertext
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), nullable=False
    )
    integration_type: Mapped[str] = mapped_column(
        String(50), nullable=False, default="quickbooks_online", server_default="quickbooks_online"
    )
    redirect_uri: Mapped[str] = mapped_column(Text, nullable=False)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RateLimitWindow(Base):
    """A fixed-window request counter per realm and bucket ('requests', 'batch'), shared by every worker:
    increment with INSERT … ON CONFLICT DO UPDATE … RETURNING and wait when the count passes the budget."""

    __tablename__ = "rate_limit_windows"

    realm_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(20), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
