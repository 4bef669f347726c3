"""The reconcile flow for a company kept in Xero, for real (Prefect test server, the Xero sandbox, both
dialects): the flow finds the company's Xero connection itself, names its run and artifacts like
QuickBooks' (`reconcile · <Company> · <period>`), and reports in Xero's words; repair refuses clearly."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from prefect.types import SecretDict
from pydantic import SecretStr

from blocks import TOKEN_KEYS_BLOCK, TokenEncryptionKeys
from blocks.xero import XERO_APP_BLOCK, XeroAppCredentials
from flows.reconcile import reconcile
from sierra_core.db.models import Company
from sierra_core.settings import get_settings
from tasks import naming, runtime
from tests.connectors.quickbooks import oauth_helpers as h
from tests.connectors.reconcile.test_reconcile_xero import Books, books  # noqa: F401 - fixture
from tests.flows.test_run_names import _run
from tests.sandbox.xero.conftest import Xero, xero  # noqa: F401 - fixture
from tests.sandbox.xero.test_connect_and_client import connected  # noqa: F401 - fixture


@pytest.fixture
def xero_env(books: Books, xero: Xero, db: Any, prefect_api: str, monkeypatch: Any, tmp_path: Any) -> Any:  # noqa: F811
    monkeypatch.setenv("SIERRA_DATABASE_URL", db.url)
    monkeypatch.setenv("SIERRA_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    runtime.reset_engines()
    naming.forget_names()
    XeroAppCredentials(
        client_id="local-client",
        client_secret=SecretStr("local-secret"),
        redirect_uri="http://127.0.0.1:9/oauth/xero/callback",
        environment="local",
        local_base_url=xero.url,
    ).save(XERO_APP_BLOCK, overwrite=True)
    TokenEncryptionKeys(keys=SecretDict({"k1": h.KEY_TEXT}), created={"k1": h.KEY_CREATED}).save(
        TOKEN_KEYS_BLOCK, overwrite=True
    )
    with books.sessions.begin() as s:
        company = s.get(Company, books.company_id)
        assert company is not None
        company.name = "Kauri Homes"
    yield books
    get_settings.cache_clear()
    runtime.reset_engines()


def test_the_reconcile_flow_reconciles_a_xero_company(xero_env: Books) -> None:
    company_id = str(xero_env.company_id)
    state = reconcile(
        company=company_id,
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        check_stripe=False,
        return_state=True,
    )
    assert state.is_completed()
    result = state.result()
    assert result["accounting"] == "xero" and Decimal(result["accuracy_pct"]) == Decimal("100.00")
    assert result["totals"]["xero"]["invoice"] == result["totals"]["app"]["invoice"]
    name, tasks, artifacts = _run(state)
    assert name == "reconcile · Kauri Homes · 2026-10"
    assert tasks == ["reconcile books · Kauri Homes · 2026-10"]
    assert set(artifacts) == {"kauri-homes-reconcile", "kauri-homes-reconcile-discrepancies"}
    summary = artifacts["kauri-homes-reconcile"]
    assert summary.startswith("# Reconciliation of Kauri Homes: 100.00 %")
    assert re.search(r"\| xero \| invoice \| 104 \| \$[\d,]+\.\d\d \|", summary), summary
    assert "the app, Xero and Stripe agree" in artifacts["kauri-homes-reconcile-discrepancies"]

    refused = reconcile(company=company_id, repair=True, check_stripe=False, return_state=True)
    assert refused.is_failed()
    assert "repair is not available for a company kept in Xero" in str(refused.message)
