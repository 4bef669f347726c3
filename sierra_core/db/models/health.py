"""`integration_health`: the latest health verdict of each connection (written by the health-check flow)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sierra_core.db.models.base import Base, Timestamps, UUIDPk
from sierra_core.db.types import JSONDoc, UTCDateTime

HEALTH_STATUSES = ("healthy", "degraded", "failing")


class IntegrationHealth(UUIDPk, Timestamps, Base):
    """One row per integration: the verdict, the figures it rests on, and what to do about it."""

    __tablename__ = "integration_health"
    __table_args__ = (
        CheckConstraint("status IN ('healthy', 'degraded', 'failing')", name="status"),
        Index("idx_integration_health_status", "status"),
    )

    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    token_status: Mapped[str] = mapped_column(String(30), nullable=False)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sync_status: Mapped[str | None] = mapped_column(String(20))
    failure_rate: Mapped[float] = mapped_column(Float, nullable=False, default=0.0, server_default="0")
    attempts_in_window: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    pending_retries: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    open_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    last_webhook_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, nullable=False, default=list)
    summary: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
