"""Helpers the revisions share. Triggers keep `updated_at` current even for writes made with plain SQL
(SQLAlchemy's onupdate only covers writes that go through it)."""

from __future__ import annotations

from alembic import op


def create_touch_triggers(tables: list[str]) -> None:
    """On every UPDATE that leaves updated_at unchanged, set it to now (UTC)."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION sierra_touch_updated_at() RETURNS trigger AS $$
            BEGIN
                IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
                    NEW.updated_at := now();
                END IF;
                RETURN NEW;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        for table in tables:
            op.execute(
                f"CREATE TRIGGER trg_{table}_touch BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION sierra_touch_updated_at()"
            )
    elif dialect == "sqlite":
        # Same text format SQLAlchemy writes for DateTime on SQLite (microseconds, 6 digits).
        now = "strftime('%Y-%m-%d %H:%M:%S', 'now') || '.' || substr(strftime('%f', 'now'), 4) || '000'"
        for table in tables:
            # Table names come from the revision, never from input.
            ddl = (
                f"CREATE TRIGGER trg_{table}_touch AFTER UPDATE ON {table} FOR EACH ROW "  # noqa: S608
                f"WHEN NEW.updated_at IS OLD.updated_at "
                f"BEGIN UPDATE {table} SET updated_at = {now} WHERE id = NEW.id; END"
            )
            op.execute(ddl)


def drop_touch_triggers(tables: list[str]) -> None:
    dialect = op.get_bind().dialect.name
    for table in tables:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_touch ON {table}")
        elif dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_touch")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS sierra_touch_updated_at()")
