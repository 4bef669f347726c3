"""Real-time change notifications: on PostgreSQL, every write to the money tables NOTIFYs
`sierra_sync_changes` with `{"company_id", "table", "id", "op", "schema"}` (what `sierra-sync watch` LISTENs
to). A line item is reported under its invoice's company. On SQLite this revision does nothing: the watcher
polls there.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 04:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "sierra_sync_changes"  # spelled out in the functions below; connectors.watch listens to it
COMPANY_TABLES = ["contacts", "invoices", "payments", "expenses"]
LINE_TABLE = "invoice_line_items"

# One row-level AFTER trigger per table. The payload names the schema so a listener shared by several
# schemas of one database (tests, staging copies) keeps only its own changes.
NOTIFY_CHANGE = """
CREATE OR REPLACE FUNCTION sierra_notify_change() RETURNS trigger AS $$
DECLARE
    rec record;
BEGIN
    IF TG_OP = 'DELETE' THEN rec := OLD; ELSE rec := NEW; END IF;
    PERFORM pg_notify('sierra_sync_changes', json_build_object(
        'company_id', rec.company_id, 'table', TG_TABLE_NAME, 'id', rec.id,
        'op', lower(TG_OP), 'schema', TG_TABLE_SCHEMA)::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""

# Line items carry no company: look it up on the invoice, in the trigger's own schema (not the caller's
# search_path). When the invoice is gone too (a cascading delete), the invoice's own trigger reports it.
NOTIFY_LINE_CHANGE = """
CREATE OR REPLACE FUNCTION sierra_notify_line_change() RETURNS trigger AS $$
DECLARE
    rec record;
    company uuid;
BEGIN
    IF TG_OP = 'DELETE' THEN rec := OLD; ELSE rec := NEW; END IF;
    EXECUTE format('SELECT company_id FROM %I.invoices WHERE id = $1', TG_TABLE_SCHEMA)
        INTO company USING rec.invoice_id;
    IF company IS NOT NULL THEN
        PERFORM pg_notify('sierra_sync_changes', json_build_object(
            'company_id', company, 'table', TG_TABLE_NAME, 'id', rec.id,
            'op', lower(TG_OP), 'schema', TG_TABLE_SCHEMA)::text);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _is_postgresql():
        return
    op.execute(NOTIFY_CHANGE)
    op.execute(NOTIFY_LINE_CHANGE)
    for table in COMPANY_TABLES:
        op.execute(
            f"CREATE TRIGGER trg_{table}_notify AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION sierra_notify_change()"
        )
    op.execute(
        f"CREATE TRIGGER trg_{LINE_TABLE}_notify AFTER INSERT OR UPDATE OR DELETE ON {LINE_TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION sierra_notify_line_change()"
    )


def downgrade() -> None:
    if not _is_postgresql():
        return
    for table in [*COMPANY_TABLES, LINE_TABLE]:
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_notify ON {table}")
    op.execute("DROP FUNCTION IF EXISTS sierra_notify_line_change()")
    op.execute("DROP FUNCTION IF EXISTS sierra_notify_change()")
