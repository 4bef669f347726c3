"""Projects take the product brief's createProjectSchema: `description` and `project_type` columns, and the
brief's statuses (lead, planning, active, on_hold, completed, cancelled). Existing rows keep their status,
except `bidding`, which becomes `lead` (a job being bid for is not won yet: it is a lead, not a project in
planning). Every row is kept. The API names `customer_id`, `budget` and `end_date` as the brief does
(`client_id`, `estimated_budget`, `target_completion`); the columns keep their names.

Downgrade: `lead` and `planning` go back to `bidding` (the old set has no planning), and the two columns are
dropped with what they hold.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ("bidding", "active", "on_hold", "completed", "cancelled")
NEW = ("lead", "planning", "active", "on_hold", "completed", "cancelled")
LIVE_CODE = sa.text("code IS NOT NULL AND deleted_at IS NULL")


def _status_check(values: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _swap_status_check(new: tuple[str, ...], moves: dict[str, str]) -> None:
    """Replace the status CHECK, moving the statuses of `moves` while neither check is in force. On SQLite
    each batch rebuilds the table: the partial unique index on codes is dropped first and made again after,
    so it keeps its WHERE clause whatever batch reflection makes of it."""
    op.drop_index("uq_projects_company_code_live", table_name="projects")
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_constraint(op.f("ck_projects_status"), type_="check")
    projects = sa.table("projects", sa.column("status", sa.String))
    for before, after in moves.items():
        op.execute(projects.update().where(projects.c.status == before).values(status=after))
    with op.batch_alter_table("projects") as batch_op:
        batch_op.create_check_constraint("status", _status_check(new))
    op.create_index(
        "uq_projects_company_code_live",
        "projects",
        ["company_id", "code"],
        unique=True,
        postgresql_where=LIVE_CODE,
        sqlite_where=LIVE_CODE,
    )


def upgrade() -> None:
    op.add_column("projects", sa.Column("description", sa.Text(), nullable=True))
    op.add_column("projects", sa.Column("project_type", sa.String(length=100), nullable=True))
    _swap_status_check(NEW, {"bidding": "lead"})


def downgrade() -> None:
    _swap_status_check(OLD, {"lead": "bidding", "planning": "bidding"})
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_column("project_type")
        batch_op.drop_column("description")
