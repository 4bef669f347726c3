"""Sync log: `lease_expires_at`, the lease of an attempt in progress. The worker running the attempt renews
it while the push runs; once it has passed, the retry sweep treats the attempt as left by a dead worker.
Rows written before this revision have none and keep the old rule (`stale_after_seconds` since the start).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sierra_core.db.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (nullable, no default) on both dialects: no table rebuild, every row kept.
    op.add_column(
        "integration_sync_logs",
        sa.Column("lease_expires_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("integration_sync_logs", "lease_expires_at")
