"""The hub's sign-in rate limit: `hub_login_failures` (recent failed local sign-ins per SHA-256 of email and
client address, shared by every worker).

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-07 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sierra_core.db.types

revision: str = "0015"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hub_login_failures",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_login_failures")),
    )
    with op.batch_alter_table("hub_login_failures", schema=None) as batch_op:
        batch_op.create_index("idx_hub_login_failures_key", ["key_hash", "failed_at"], unique=False)
        batch_op.create_index("idx_hub_login_failures_at", ["failed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hub_login_failures", schema=None) as batch_op:
        batch_op.drop_index("idx_hub_login_failures_at")
        batch_op.drop_index("idx_hub_login_failures_key")
    op.drop_table("hub_login_failures")
