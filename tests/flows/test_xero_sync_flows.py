"""incremental-sync and sync-all-companies for a company whose books are in Xero: the flows take the
adapter from the company's connected accounting provider (QuickBooks or Xero), through the same engine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from prefect.types import SecretDict
from pydantic import SecretStr
from sqlalchemy import select

from blocks import TOKEN_KEYS_BLOCK, XERO_APP_BLOCK, TokenEncryptionKeys, XeroAppCredentials
from connectors.seed.generate import seed
from flows.sync import connected_companies, incremental_sync
from sierra_core.db.models import Company, EntityLink, Invoice
from sierra_core.settings import get_settings
from tasks import naming, runtime
from tests.connectors.quickbooks import oauth_helpers as h
from tests.connectors.xero.test_sync_engine import XeroCompany, connect_company
from tests.sandbox.xero.conftest import Xero, start


@pytest.fixture
def xero_flow_env(
    db: Any, engine: Any, sessions: Any, prefect_api: Any, monkeypatch: Any
) -> Iterator[XeroCompany]:
    server, xero = start()
    monkeypatch.setenv("SIERRA_DATABASE_URL", db.url)
    get_settings.cache_clear()
    runtime.reset_engines()
    naming.forget_names()
    try:
        seed(engine, companies=1, invoices=8, seed_value=9)
        with sessions() as s:
            company_id = s.scalar(select(Company.id))
        company = connect_company(xero, sessions, company_id)
        XeroAppCredentials(
            client_id="local-client",
            client_secret=SecretStr("local-secret"),
            redirect_uri=company.app.redirect_uri,
            environment="local",
            local_base_url=xero.url,
        ).save(XERO_APP_BLOCK, overwrite=True)
        TokenEncryptionKeys(keys=SecretDict({"k1": h.KEY_TEXT}), created={"k1": h.KEY_CREATED}).save(
            TOKEN_KEYS_BLOCK, overwrite=True
        )
        yield company
    finally:
        server.stop()
        get_settings.cache_clear()
        runtime.reset_engines()


def _xero_requests(xero: Xero, tenant: str) -> int:
    return int(xero.sandbox.orgs[tenant].day_calls)


def test_incremental_sync_of_a_xero_company_goes_both_ways(xero_flow_env: XeroCompany) -> None:
    env = xero_flow_env
    company = str(env.company_id)
    assert (company,) == tuple(cid for cid, _ in connected_companies())
    first = incremental_sync(company=company)
    assert first["push"]["counts"]["invoice"]["created"] > 0 and first["push"]["failures"] == []
    with env.sessions() as s:
        sendable = len(list(s.scalars(select(Invoice.id).where(Invoice.status.not_in(["draft", "void"])))))
        linked = len(list(s.scalars(select(EntityLink.id).where(EntityLink.entity_type == "invoice"))))
    assert linked == sendable == len(env.docs("Invoices"))

    incremental_sync(company=company)  # its suppliers; the first journal read (and a sweep)
    before = _xero_requests(env.xero, env.tenant)
    idle = incremental_sync(company=company)
    idle_requests = _xero_requests(env.xero, env.tenant) - before
    assert sum(c["created"] + c["updated"] for c in idle["push"]["counts"].values()) == 0
    assert idle["pull"]["requests"] == idle_requests == 1  # the journals since the last one seen
