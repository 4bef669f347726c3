"""API-key changes NOTIFY `api_key_changes` (PostgreSQL): the API's per-process key cache
(connectors.apikey_cache) drops a key the moment it is revoked, deactivated, deleted, or its expiry,
permissions, limits or company change. The payload is the key's id. The per-request counters are not
listed, so counting a request notifies no one. On SQLite this revision does nothing (no cache there).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-09 23:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTIFY = """
CREATE OR REPLACE FUNCTION sierra_notify_api_key_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('api_key_changes', OLD.id::text);
    ELSE
        PERFORM pg_notify('api_key_changes', NEW.id::text);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""

WATCHED = (
    "is_active, revoked_at, expires_at, permissions, rate_limit_per_hour, rate_limit_per_day, key_value, "
    "company_id, environment"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(NOTIFY)
    op.execute(
        f"CREATE TRIGGER trg_api_keys_changed AFTER UPDATE OF {WATCHED} OR DELETE ON api_keys "
        "FOR EACH ROW EXECUTE FUNCTION sierra_notify_api_key_change()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS trg_api_keys_changed ON api_keys")
    op.execute("DROP FUNCTION IF EXISTS sierra_notify_api_key_change()")
