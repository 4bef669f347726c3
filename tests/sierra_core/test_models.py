"""Schema behaviour that matters to sync: timestamps, versions, uniqueness both ways, checks, JSONB."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from sierra_core.db.models import Contact, EntityLink, Invoice, WebhookEvent
from tests import factories


def test_updated_at_moves_on_orm_update_and_created_at_stays(sessions):
    with sessions.begin() as s:
        c = factories.company(s)
        cust = factories.customer(s, c.id)
        cust_id = cust.id
    with sessions() as s:
        before = s.get(Contact, cust_id)
        assert before is not None
        created, updated = before.created_at, before.updated_at
    time.sleep(0.01)
    with sessions.begin() as s:
        row = s.get(Contact, cust_id)
        assert row is not None
        row.email = "new@example.com"
    with sessions() as s:
        after = s.get(Contact, cust_id)
        assert after is not None
        assert after.created_at == created
        assert after.updated_at > updated
        assert after.version == 2


def test_updated_at_moves_on_raw_sql_update_through_trigger(sessions, engine):
    with sessions.begin() as s:
        c = factories.company(s)
        cust = factories.customer(s, c.id)
        cust_id, updated = cust.id, cust.updated_at
    time.sleep(0.01)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE contacts SET email = 'raw@example.com' WHERE id = :id"),
            {"id": cust_id.hex if engine.dialect.name == "sqlite" else cust_id},
        )
    with sessions() as s:
        after = s.get(Contact, cust_id)
        assert after is not None
        assert after.email == "raw@example.com"
        assert after.updated_at > updated


def test_stale_version_write_is_refused(sessions):
    with sessions.begin() as s:
        c = factories.company(s)
        inv = factories.invoice(s, c.id, factories.customer(s, c.id).id)
        inv_id = inv.id
    first, second = sessions(), sessions()
    try:
        a = first.get(Invoice, inv_id)
        b = second.get(Invoice, inv_id)
        assert a is not None and b is not None
        a.memo = "edited in the app"
        first.commit()
        b.memo = "edited by a sync that read the old version"
        with pytest.raises(StaleDataError):
            second.commit()
    finally:
        first.close()
        second.close()


def test_entity_links_are_unique_both_ways(sessions):
    with sessions.begin() as s:
        c = factories.company(s)
        integ = factories.integration(s, c.id)
        app_id = uuid.uuid4()
        s.add(
            EntityLink(
                integration_id=integ.id,
                company_id=c.id,
                entity_type="invoice",
                app_id=app_id,
                external_id="660",
            )
        )
        ids = (integ.id, c.id)
    for app, ext in ((app_id, "661"), (uuid.uuid4(), "660")):
        with pytest.raises(IntegrityError), sessions.begin() as s:
            s.add(
                EntityLink(
                    integration_id=ids[0],
                    company_id=ids[1],
                    entity_type="invoice",
                    app_id=app,
                    external_id=ext,
                )
            )
    with sessions.begin() as s:  # the same external id is fine for another entity type
        s.add(
            EntityLink(
                integration_id=ids[0],
                company_id=ids[1],
                entity_type="customer",
                app_id=app_id,
                external_id="660",
            )
        )


def test_webhook_event_id_is_unique_per_provider(sessions):
    with sessions.begin() as s:
        s.add(WebhookEvent(provider="stripe", event_id="evt_1", raw_payload="{}"))
        s.add(WebhookEvent(provider="quickbooks", event_id="evt_1", raw_payload="{}"))
    with pytest.raises(IntegrityError), sessions.begin() as s:
        s.add(WebhookEvent(provider="stripe", event_id="evt_1", raw_payload="{}"))


def test_one_integration_per_company_and_type(sessions):
    with sessions.begin() as s:
        c = factories.company(s)
        factories.integration(s, c.id)
        cid = c.id
    with pytest.raises(IntegrityError), sessions.begin() as s:
        factories.integration(s, cid)


@pytest.mark.parametrize(
    ("column", "value"),
    [("status", "paid-ish"), ("balance", Decimal("-1.00")), ("total", Decimal("5.00"))],
)
def test_invoice_checks_reject_bad_rows(sessions, column, value):
    with sessions.begin() as s:
        c = factories.company(s)
        inv = factories.invoice(s, c.id, factories.customer(s, c.id).id)
        inv_id = inv.id
    with pytest.raises(IntegrityError), sessions.begin() as s:
        s.execute(update(Invoice).where(Invoice.id == inv_id).values({column: value}))


def test_integration_type_is_checked(sessions):
    with sessions.begin() as s:
        cid = factories.company(s).id
    with pytest.raises(IntegrityError), sessions.begin() as s:
        factories.integration(s, cid, integration_type="myspace")


def test_server_defaults_let_plain_sql_inserts_work(engine, sessions):
    with sessions.begin() as s:
        cid = factories.company(s).id
    new_id = uuid.uuid4()
    as_param = (lambda u: u.hex) if engine.dialect.name == "sqlite" else (lambda u: u)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO integrations (id, company_id, integration_type) VALUES (:id, :c, 'stripe')"),
            {"id": as_param(new_id), "c": as_param(cid)},
        )
    with sessions() as s:
        from sierra_core.db.models import Integration

        row = s.get(Integration, new_id)
        assert row is not None
        assert (row.total_syncs, row.is_active, row.connection_status, row.settings) == (
            0,
            False,
            "disconnected",
            {},
        )
        assert row.created_at is not None


def test_json_is_jsonb_on_postgresql(engine):
    columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("integration_sync_logs")}
    kind = type(columns["request_payload"]).__name__
    assert kind == ("JSONB" if engine.dialect.name == "postgresql" else "JSON")


def test_soft_deleted_invoice_stays_queryable(sessions):
    from sierra_core.db.types import utcnow

    with sessions.begin() as s:
        c = factories.company(s)
        inv = factories.invoice(s, c.id, factories.customer(s, c.id).id)
        inv.deleted_at = utcnow()
        inv_id = inv.id
    with sessions() as s:
        row = s.scalar(select(Invoice).where(Invoice.id == inv_id))
        assert row is not None and row.is_deleted
