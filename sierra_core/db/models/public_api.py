"""Tables of the public API (issue 10): project tasks, idempotency records of POST requests, and the
outgoing-webhook deliveries with one row per attempt.

Outgoing subscriptions themselves live in `webhook_subscriptions` (provider 'outgoing', secret sealed).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sierra_core.db.models.base import Base, SoftDelete, Timestamps, UUIDPk, in_check
from sierra_core.db.types import Fixed, JSONDoc, UTCDateTime

TASK_STATUSES = ("todo", "in_progress", "blocked", "done", "cancelled")
TASK_PRIORITIES = ("low", "normal", "high", "urgent")
DELIVERY_STATUSES = ("pending", "retrying", "succeeded", "failed")


class ProjectTask(UUIDPk, Timestamps, SoftDelete, Base):
    """A task of a project (schedule item, punch-list entry)."""

    __tablename__ = "project_tasks"
    __table_args__ = (
        CheckConstraint(in_check("status", TASK_STATUSES), name="status"),
        CheckConstraint(in_check("priority", TASK_PRIORITIES), name="priority"),
        Index("ix_project_tasks_project_created", "project_id", "created_at"),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), nullable=False, index=True
    )
    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="todo", server_default="todo")
    priority: Mapped[str] = mapped_column(
        String(20), nullable=False, default="normal", server_default="normal"
    )
    assignee: Mapped[str | None] = mapped_column(String(255))
    due_date: Mapped[date | None] = mapped_column(Date)
    estimated_hours: Mapped[Decimal | None] = mapped_column(Fixed(8, 2))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiIdempotencyKey(UUIDPk, Timestamps, Base):
    """The answer to a POST sent with an Idempotency-Key, stored in the same transaction as its effect: a
    retry with the same key and body gets the same answer, a different body gets 409."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("api_key_id", "idempotency_key"),)

    api_key_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False
    )
    idempotency_key: Mapped[str] = mapped_column(String(255), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    response_body: Mapped[Any] = mapped_column(JSONDoc, nullable=False)


class WebhookDelivery(UUIDPk, Timestamps, Base):
    """One event to deliver to one subscription; retried with exponential backoff until it succeeds or
    runs out of attempts. `event_id` is stable across retries and replays (receivers de-duplicate on it)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(in_check("status", DELIVERY_STATUSES), name="status"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscription", "subscription_id", "created_at"),
    )

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False
    )
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), nullable=False, index=True
    )
    event_id: Mapped[str] = mapped_column(String(64), nullable=False)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    payload: Mapped[Any] = mapped_column(JSONDoc, nullable=False)
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, default="pending", server_default="pending"
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=6, server_default="6")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replay_of_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="SET NULL")
    )


class WebhookDeliveryAttempt(UUIDPk, Base):
    """One HTTP attempt of a delivery: what the receiver answered (status, a short body excerpt) or why it
    could not be reached."""

    __tablename__ = "webhook_delivery_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "attempt_number"),)

    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False
    )
    attempt_number: Mapped[int] = mapped_column(Integer, nullable=False)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
