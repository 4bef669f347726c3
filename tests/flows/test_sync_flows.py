"""incremental-sync / full-sync / sync-all-companies over the sandbox."""

from __future__ import annotations

from collections import Counter

import httpx
from sqlalchemy import select, update

from connectors.quickbooks.settings import sample_company_settings
from connectors.seed.generate import seed
from flows.sync import full_sync, incremental_sync, sync_all_companies
from sierra_core.db.models import Company, Contact, EntityLink, Integration, Invoice
from tests.connectors.quickbooks import oauth_helpers as h


def _stats(env):
    return env.qbo.admin("GET", f"stats?realm={env.connection.realm_id}")


def test_incremental_sync_both_ways_without_ping_pong(flow_env):
    company = str(flow_env.connection.company_id)
    first = incremental_sync(company=company)
    assert first["push"]["counts"]["invoice"]["created"] > 0
    before = _stats(flow_env)["requests_total"]
    idle = incremental_sync(company=company)
    idle_requests = _stats(flow_env)["requests_total"] - before
    assert idle_requests <= 2, idle_requests  # one CDC read; the push found nothing to do
    assert sum(c["created"] + c["updated"] for c in idle["push"]["counts"].values()) == 0

    # A bookkeeper renames a customer's e-mail in QuickBooks: the next sync brings it into the app ...
    with flow_env.sessions() as s:
        link = s.scalars(select(EntityLink).where(EntityLink.entity_type == "customer").limit(1)).one()
    obj = next(c for c in flow_env.qbo_items("Customer") if c["Id"] == link.external_id)
    flow_env.qbo.admin("POST", "clock", {"advance_seconds": 2})
    with httpx.Client() as http:
        from connectors.kit.tokens import DbTokenSource
        from connectors.quickbooks.client import QuickBooksClient

        source = DbTokenSource(
            flow_env.sessions, flow_env.connection.integration_id, flow_env.ring, flow_env.app, http
        )
        with QuickBooksClient(flow_env.app.api_base_url, flow_env.connection.realm_id, source) as client:
            client.update(
                "Customer",
                {
                    "Id": obj["Id"],
                    "SyncToken": obj["SyncToken"],
                    "PrimaryEmailAddr": {"Address": "billing@example.org"},
                },
                request_id="bookkeeper-edit-1",
            )
    pulled = incremental_sync(company=company)
    assert pulled["pull"]["counts"]["customer"]["updated"] == 1
    with flow_env.sessions() as s:
        contact = s.get(Contact, link.app_id)
        assert contact is not None and contact.email == "billing@example.org"
    # ... and does not push it back.
    assert sum(c["updated"] for c in pulled["push"]["counts"].values()) == 0


def test_full_sync_is_idempotent(flow_env):
    company = str(flow_env.connection.company_id)
    full_sync(company=company)
    again = full_sync(company=company)
    assert sum(c["created"] + c["updated"] for c in again["push"]["counts"].values()) == 0
    with flow_env.sessions() as s:
        numbers = Counter(
            s.scalars(select(Invoice.invoice_number).where(Invoice.status.not_in(["draft", "void"])))
        )
    assert Counter(i["DocNumber"] for i in flow_env.qbo_items("Invoice")) == numbers


def test_sync_all_companies_fans_out_to_each_realm(flow_env, engine):
    seed(engine, companies=2, invoices=6, seed_value=9)  # company 0 exists already; adds company 1
    with flow_env.sessions() as s:
        second = s.scalars(select(Company).where(Company.id != flow_env.connection.company_id)).one()
    with httpx.Client(timeout=30) as http:
        integration_id, params, *_ = h.connect_company(flow_env.sessions, flow_env.qbo.url, http, second.id)
    with flow_env.sessions.begin() as s:
        s.execute(
            update(Integration)
            .where(Integration.id == integration_id)
            .values(settings=sample_company_settings().to_json())
        )
    result = sync_all_companies(max_concurrency=2)
    assert result["companies"] == 2 and result["failed"] == 0
    realm2 = params["realmId"]
    invoices2 = flow_env.qbo.admin("GET", f"realms/{realm2}/entities/Invoice")["items"]
    with flow_env.sessions() as s:
        expected = set(
            s.scalars(
                select(Invoice.invoice_number).where(
                    Invoice.company_id == second.id, Invoice.status.not_in(["draft", "void"])
                )
            )
        )
    assert {i["DocNumber"] for i in invoices2} == expected
