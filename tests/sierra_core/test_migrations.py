"""Alembic: upgrade, downgrade to base and upgrade again on both dialects; models and migrations agree."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from sierra_core.db import migrate
from sierra_core.db.models import Base, Company, Project, WebhookEvent
from sierra_core.db.models.base import table_of
from sierra_core.db.types import utcnow
from sierra_core.errors import SierraError

EXPRESSION_INDEXES = {"idx_api_logs_api_key", "idx_api_logs_company", "idx_sync_logs_integration"}


def test_downgrade_to_base_then_upgrade_to_head(fresh_db):
    engine = fresh_db.engine
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables

    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


@pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index:UserWarning"
)
def test_models_match_the_migrations(migrated_db):
    with migrated_db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    if migrated_db.dialect == "sqlite":
        # SQLite cannot reflect expression indexes (created_at DESC): alembic reports them as different.
        diff = [
            d for d in diff if not (d[0] in ("add_index", "remove_index") and d[1].name in EXPRESSION_INDEXES)
        ]
    assert diff == []


def test_unique_project_codes_refuse_existing_duplicates_and_change_nothing(fresh_db):
    engine = fresh_db.engine
    migrate.upgrade(engine, "0006")
    companies, projects = table_of(Company), table_of(Project)
    company = uuid.uuid4()

    def add(name: str, code: str | None) -> uuid.UUID:
        pid = uuid.uuid4()
        with engine.begin() as conn:
            conn.execute(projects.insert().values(id=pid, company_id=company, name=name, code=code))
        return pid

    with engine.begin() as conn:
        conn.execute(companies.insert().values(id=company, name="Dup Builders"))
    add("Deck", "D-1")
    second = add("Deck again", "D-1")
    add("Shed", None)
    with pytest.raises(SierraError, match=r"2 live projects with code 'D-1'.*run the migration again"):
        migrate.upgrade(engine)
    assert migrate.current_revision(engine) == "0006"
    codes = select(func.count()).select_from(projects).where(projects.c.code == "D-1")
    with engine.connect() as conn:
        assert conn.execute(codes).scalar_one() == 2
    with engine.begin() as conn:
        conn.execute(projects.update().where(projects.c.id == second).values(code="D-2"))
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    with pytest.raises(IntegrityError):
        add("Third", "D-2")
    # A deleted project's code can be used again, and any number of projects can have no code.
    with engine.begin() as conn:
        conn.execute(projects.update().where(projects.c.id == second).values(deleted_at=func.now()))
    add("Fourth", "D-2")
    add("Fifth", None)


def test_inbox_rows_take_the_registry_provider_names_and_none_is_lost(fresh_db):
    engine = fresh_db.engine
    migrate.upgrade(engine, "0007")
    events = table_of(WebhookEvent)
    with engine.begin() as conn:
        for provider, event_id in (("quickbooks", "legacy:1"), ("quickbooks", "ce:2"), ("stripe", "evt_1")):
            conn.execute(
                events.insert().values(
                    id=uuid.uuid4(),
                    provider=provider,
                    event_id=event_id,
                    raw_payload="{}",
                    received_at=utcnow(),
                )
            )
    migrate.upgrade(engine, "0008")
    query = select(events.c.provider, events.c.event_id).order_by(events.c.provider, events.c.event_id)
    with engine.connect() as conn:
        assert conn.execute(query).all() == [
            ("quickbooks_online", "ce:2"),
            ("quickbooks_online", "legacy:1"),
            ("stripe", "evt_1"),
        ]
    migrate.downgrade(engine, "0007")
    with engine.connect() as conn:
        assert [p for p, _ in conn.execute(query).all()] == ["quickbooks", "quickbooks", "stripe"]


def test_project_statuses_move_to_the_brief_and_every_row_is_kept(fresh_db):
    engine = fresh_db.engine
    migrate.upgrade(engine, "0009")
    companies, projects = table_of(Company), table_of(Project)
    company = uuid.uuid4()
    moved = {"bidding": "lead", "active": "active", "on_hold": "on_hold", "completed": "completed"}
    moved["cancelled"] = "cancelled"
    ids = {status: uuid.uuid4() for status in moved}

    def add(status: str, code: str | None = None, pid: uuid.UUID | None = None) -> None:
        # Only the columns of 0009 (the new ones have no default, so they are left out of the INSERT).
        with engine.begin() as conn:
            conn.execute(
                projects.insert().values(
                    id=pid or uuid.uuid4(), company_id=company, name=f"P {status}", status=status, code=code
                )
            )

    with engine.begin() as conn:
        conn.execute(companies.insert().values(id=company, name="Status Builders"))
    for status, pid in ids.items():
        add(status, status, pid)
    migrate.upgrade(engine, "0010")
    query = select(projects.c.id, projects.c.status, projects.c.description, projects.c.project_type)
    with engine.connect() as conn:
        rows = {row.id: row for row in conn.execute(query)}
    assert {pid: rows[pid].status for pid in ids.values()} == {ids[s]: new for s, new in moved.items()}
    assert all(row.description is None and row.project_type is None for row in rows.values())

    add("planning")
    with pytest.raises(IntegrityError):
        add("bidding")
    with pytest.raises(IntegrityError):  # the partial unique index on live codes survived the rebuilds
        add("lead", "active")
    add("lead", None)  # any number of projects without a code
    migrate.downgrade(engine, "0009")
    with engine.connect() as conn:
        statuses = sorted(conn.execute(select(projects.c.status)).scalars())
    assert statuses == ["active", "bidding", "bidding", "bidding", "cancelled", "completed", "on_hold"]
    migrate.upgrade(engine)
