"""Reconciliation history: one row per run (accuracy figures, counts per class) and one row per discrepancy,
so finance can follow accuracy over time and see what each run asked them to fix."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from sierra_core.db.models.base import Base, Timestamps, UUIDPk, in_check
from sierra_core.db.types import Fixed, JSONDoc, Money, UTCDateTime

DISCREPANCY_KINDS = (
    "missing_in_qbo",
    "missing_in_app",
    "amount_mismatch",
    "status_mismatch",
    "duplicate_in_qbo",
    "orphan_stripe_charge",
    "unlinked",
    "rounding",
)


class ReconciliationRun(UUIDPk, Timestamps, Base):
    """One reconciliation of one company over one period (a repair run points at the run it repaired)."""

    __tablename__ = "reconciliation_runs"
    __table_args__ = (
        CheckConstraint("period_end >= period_start", name="period_order"),
        Index("ix_reconciliation_runs_company_started", "company_id", "started_at"),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), nullable=False
    )
    integration_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL")
    )
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    tolerance: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    repair: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    repaired_run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    stripe_checked: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    records_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    records_matched: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    amount_total: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))
    amount_matched: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))
    accuracy_pct: Mapped[Decimal] = mapped_column(Fixed(5, 2), nullable=False)
    amount_accuracy_pct: Mapped[Decimal] = mapped_column(Fixed(5, 2), nullable=False)
    counts: Mapped[dict[str, Any]] = mapped_column(
        JSONDoc, nullable=False, default=dict, server_default=text("'{}'")
    )
    by_entity: Mapped[dict[str, Any]] = mapped_column(
        JSONDoc, nullable=False, default=dict, server_default=text("'{}'")
    )
    totals: Mapped[dict[str, Any]] = mapped_column(
        JSONDoc, nullable=False, default=dict, server_default=text("'{}'")
    )
    report_path: Mapped[str | None] = mapped_column(Text)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))


class ReconciliationItem(UUIDPk, Timestamps, Base):
    """One discrepancy found by a run (matched records are counted on the run, not stored one by one)."""

    __tablename__ = "reconciliation_items"
    __table_args__ = (
        CheckConstraint(in_check("kind", DISCREPANCY_KINDS), name="kind"),
        Index("ix_reconciliation_items_entity", "entity_type", "app_id"),
    )

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reconciliation_runs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), nullable=False
    )
    entity_type: Mapped[str] = mapped_column(String(30), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    app_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    external_id: Mapped[str | None] = mapped_column(String(255))
    stripe_id: Mapped[str | None] = mapped_column(String(255))
    number: Mapped[str | None] = mapped_column(String(500))
    app_amount: Mapped[Decimal | None] = mapped_column(Money())
    qbo_amount: Mapped[Decimal | None] = mapped_column(Money())
    stripe_amount: Mapped[Decimal | None] = mapped_column(Money())
    difference: Mapped[Decimal | None] = mapped_column(Money())
    detail: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text, nullable=False)
