"""integration_health: the latest health verdict of each connection (the health-check flow writes it).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import sierra_core.db.types
from migrations.helpers import create_touch_triggers

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integration_health",
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("token_status", sa.String(length=30), nullable=False),
        sa.Column("last_sync_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_sync_status", sa.String(length=20), nullable=True),
        sa.Column("failure_rate", sa.Float(), server_default="0", nullable=False),
        sa.Column("attempts_in_window", sa.Integer(), server_default="0", nullable=False),
        sa.Column("pending_retries", sa.Integer(), server_default="0", nullable=False),
        sa.Column("open_failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_webhook_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("checked_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
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
        sa.CheckConstraint(
            "status IN ('healthy', 'degraded', 'failing')", name=op.f("ck_integration_health_status")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_integration_health_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_integration_health_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_health")),
        sa.UniqueConstraint("integration_id", name=op.f("uq_integration_health_integration_id")),
    )
    with op.batch_alter_table("integration_health", schema=None) as batch_op:
        batch_op.create_index("idx_integration_health_status", ["status"], unique=False)
    create_touch_triggers(["integration_health"])


def downgrade() -> None:
    # Only this table's trigger: the shared trigger function belongs to 0001.
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_integration_health_touch ON integration_health")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS trg_integration_health_touch")
    with op.batch_alter_table("integration_health", schema=None) as batch_op:
        batch_op.drop_index("idx_integration_health_status")
    op.drop_table("integration_health")
