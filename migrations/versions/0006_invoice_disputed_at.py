"""Invoices: `disputed_at`, set when Stripe reports a dispute (chargeback) on a payment of the invoice.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sierra_core.db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both dialects (no table rebuild: the touch and notify triggers stay).
    op.add_column(
        "invoices", sa.Column("disputed_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35): a batch rebuild of the table would lose its touch trigger.
    op.drop_column("invoices", "disputed_at")
