"""Reconciliation history: reconciliation_runs (accuracy per run) and reconciliation_items (discrepancies).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 05:10:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import sierra_core.db.types
from migrations.helpers import create_touch_triggers

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ["reconciliation_runs", "reconciliation_items"]
KINDS = "kind IN ('missing_in_qbo', 'missing_in_app', 'amount_mismatch', 'status_mismatch', 'duplicate_in_qbo', 'orphan_stripe_charge', 'unlinked', 'rounding')"


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _money(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sierra_core.db.types.Fixed(precision=14, scale=2), nullable=nullable)


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "created_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sierra_core.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "reconciliation_runs",
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("integration_id", sa.Uuid(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        _money("tolerance", False),
        sa.Column("repair", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("repaired_run_id", sa.Uuid(), nullable=True),
        sa.Column("stripe_checked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("started_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("records_total", sa.Integer(), server_default="0", nullable=False),
        sa.Column("records_matched", sa.Integer(), server_default="0", nullable=False),
        _money("amount_total", False),
        _money("amount_matched", False),
        sa.Column("accuracy_pct", sierra_core.db.types.Fixed(precision=5, scale=2), nullable=False),
        sa.Column("amount_accuracy_pct", sierra_core.db.types.Fixed(precision=5, scale=2), nullable=False),
        sa.Column("counts", _json(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("by_entity", _json(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("totals", _json(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("report_path", sa.Text(), nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        *_stamps(),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_reconciliation_runs_period_order")),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_reconciliation_runs_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_reconciliation_runs_integration_id_integrations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
    )
    op.create_index(
        "ix_reconciliation_runs_company_started",
        "reconciliation_runs",
        ["company_id", "started_at"],
        unique=False,
    )
    op.create_table(
        "reconciliation_items",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("entity_type", sa.String(length=30), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("app_id", sa.Uuid(), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_id", sa.String(length=255), nullable=True),
        sa.Column("number", sa.String(length=500), nullable=True),
        _money("app_amount", True),
        _money("qbo_amount", True),
        _money("stripe_amount", True),
        _money("difference", True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        *_stamps(),
        sa.CheckConstraint(KINDS, name=op.f("ck_reconciliation_items_kind")),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_reconciliation_items_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["reconciliation_runs.id"],
            name=op.f("fk_reconciliation_items_run_id_reconciliation_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_items")),
    )
    op.create_index(
        "ix_reconciliation_items_entity", "reconciliation_items", ["entity_type", "app_id"], unique=False
    )
    op.create_index(op.f("ix_reconciliation_items_run_id"), "reconciliation_items", ["run_id"], unique=False)
    create_touch_triggers(TABLES)


def downgrade() -> None:
    # Not drop_touch_triggers: on PostgreSQL it drops the shared function the older tables still use.
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_touch ON {table}")
        elif dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_touch")
    op.drop_table("reconciliation_items")
    op.drop_table("reconciliation_runs")
