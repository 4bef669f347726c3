"""Outgoing webhook secret rotation (the previous secret signs too until it expires) and one live project per
company code, enforced by a partial unique index.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 10:00:00.000000
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sierra_core.db.types
from sierra_core.errors import SierraError

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE_CODE = sa.text("code IS NOT NULL AND deleted_at IS NULL")


def _refuse_duplicate_codes() -> None:
    """The index cannot be built over duplicates (two concurrent creates could make them before): name
    them and stop, rather than change a customer's project codes behind their back."""
    clashes = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT company_id, code, count(*) FROM projects WHERE code IS NOT NULL AND deleted_at IS NULL "
                "GROUP BY company_id, code HAVING count(*) > 1 ORDER BY company_id, code"
            )
        )
        .all()
    )
    if clashes:
        listed = "; ".join(
            f"company {uuid.UUID(str(c))} has {n} live projects with code {code!r}" for c, code, n in clashes
        )
        raise SierraError(
            f"cannot enforce unique project codes: {listed}. Give each of those projects its own code "
            "(PATCH /api/v1/projects/<id>), then run the migration again; nothing was changed."
        )


def upgrade() -> None:
    _refuse_duplicate_codes()
    op.add_column("webhook_subscriptions", sa.Column("previous_webhook_secret", sa.Text(), nullable=True))
    op.add_column(
        "webhook_subscriptions",
        sa.Column(
            "previous_secret_expires_at", sierra_core.db.types.UTCDateTime(timezone=True), nullable=True
        ),
    )
    op.create_index(
        "uq_projects_company_code_live",
        "projects",
        ["company_id", "code"],
        unique=True,
        postgresql_where=LIVE_CODE,
        sqlite_where=LIVE_CODE,
    )


def downgrade() -> None:
    op.drop_index("uq_projects_company_code_live", table_name="projects")
    op.drop_column("webhook_subscriptions", "previous_secret_expires_at")
    op.drop_column("webhook_subscriptions", "previous_webhook_secret")
