"""Durable retries end to end: retrying rows swept, a dead worker's attempt recovered, failures replayed."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select, update

from connectors.quickbooks.settings import sample_company_settings
from flows.push import push_to_quickbooks
from flows.retries import replay_failed, retry_failed_syncs
from sierra_core import synclog
from sierra_core.db.models import Company, Integration, IntegrationSyncLog, Invoice
from sierra_core.db.types import utcnow


def _name(env):
    with env.sessions() as s:
        return s.scalar(select(Company.name))


def _doc_numbers(env):
    with env.sessions() as s:
        return Counter(
            s.scalars(select(Invoice.invoice_number).where(Invoice.status.not_in(["draft", "void"])))
        )


def _make_due(env):
    with env.sessions.begin() as s:
        s.execute(
            update(IntegrationSyncLog)
            .where(IntegrationSyncLog.status == "retrying")
            .values(next_retry_at=utcnow() - timedelta(seconds=1))
        )


def test_sweep_finishes_what_quickbooks_refused(flow_env):
    realm = flow_env.connection.realm_id
    flow_env.qbo.admin("POST", "faults", {"realm": realm, "error_rate": 1.0})
    first = push_to_quickbooks(company=_name(flow_env), entity_types=["customer", "invoice"])
    flow_env.qbo.admin("POST", "faults", {"realm": realm, "error_rate": 0.0})
    assert first["counts"]["customer"]["retrying"] > 0
    with flow_env.sessions() as s:
        retrying = s.scalars(select(IntegrationSyncLog).where(IntegrationSyncLog.status == "retrying")).all()
        assert retrying and all(r.next_retry_at is not None for r in retrying)
    _make_due(flow_env)
    swept = retry_failed_syncs()
    assert swept["records"] == len(retrying)
    assert Counter(i["DocNumber"] for i in flow_env.qbo_items("Invoice")) == _doc_numbers(flow_env)
    with flow_env.sessions() as s:
        assert synclog.list_due_retries(s, now=utcnow() + timedelta(days=1)) == []
        second_attempts = s.scalars(
            select(IntegrationSyncLog).where(IntegrationSyncLog.attempt_number == 2)
        ).all()
        assert len(second_attempts) == len(retrying)
        assert all(a.status == "success" and a.trigger == "retry" for a in second_attempts)


def test_attempt_of_a_killed_worker_is_recovered(flow_env):
    with flow_env.sessions() as s:
        invoice = s.scalars(select(Invoice).where(Invoice.status == "sent").limit(1)).one()
    push_to_quickbooks(company=_name(flow_env), entity_types=["customer"])
    with flow_env.sessions.begin() as s:  # the worker opened this attempt an hour ago, then was killed
        lost = synclog.start_attempt(
            s,
            integration_id=flow_env.connection.integration_id,
            company_id=flow_env.connection.company_id,
            sync_type="invoice",
            direction="push",
            entity_type="invoice",
            entity_id=invoice.id,
            now=utcnow() - timedelta(hours=1),
        )
    swept = retry_failed_syncs(stale_after_seconds=600)
    assert swept["records"] == 1
    assert [i["DocNumber"] for i in flow_env.qbo_items("Invoice")] == [invoice.invoice_number]
    with flow_env.sessions() as s:
        old = s.get(IntegrationSyncLog, lost)
        assert old is not None and old.error_code == "worker_lost" and old.retried_by_id is not None
        successor = s.get(IntegrationSyncLog, old.retried_by_id)
        assert successor is not None and successor.status == "success"


def test_replay_after_mapping_the_item(flow_env):
    with flow_env.sessions.begin() as s:
        s.execute(update(Integration).values(settings={}))  # no item mapped: every invoice fails for good
    flow_env.reload()
    first = push_to_quickbooks(company=_name(flow_env), entity_types=["invoice"])
    assert first["counts"]["invoice"]["failed"] > 0
    assert first["counts"]["invoice"]["created"] == 0
    assert "in the integration settings." in first["failures"][0]["message"]
    with flow_env.sessions.begin() as s:  # the bookkeeper maps the items
        s.execute(update(Integration).values(settings=sample_company_settings().to_json()))
    replayed = replay_failed(company=_name(flow_env))
    assert replayed["records"] == first["counts"]["invoice"]["failed"]
    assert Counter(i["DocNumber"] for i in flow_env.qbo_items("Invoice")) == _doc_numbers(flow_env)
    with flow_env.sessions() as s:
        assert synclog.open_failures(s) == []
