"""The webhook inbox names providers as the kit's registry does: QuickBooks events were stored as
'quickbooks' and are now 'quickbooks_online' (the integration_type). Every row is kept.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        sa.text("UPDATE webhook_events SET provider = 'quickbooks_online' WHERE provider = 'quickbooks'")
    )


def downgrade() -> None:
    op.execute(
        sa.text("UPDATE webhook_events SET provider = 'quickbooks' WHERE provider = 'quickbooks_online'")
    )
