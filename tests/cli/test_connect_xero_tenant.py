"""`sierra-sync connect xero --tenant`: the organisation a company keeps its books in. As real processes
against the Xero sandbox and a Prefect server (one organisation per consent there), and `settle` on the
state the kit leaves after a consent that reached several organisations (`connecting`, with the list in
`settings.tenant_choices`), on both databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from connectors.kit.connect import TENANT_CHOICES, Tenant
from connectors.kit.registry import get_provider
from sierra_core.db.models import Integration
from sierra_core.errors import ConfigError
from sierra_sync.cli import tenants
from tests import factories
from tests.cli.test_connect_commands import _free_port
from tests.sandbox.xero.conftest import Xero, start

CHOICES = [
    {"id": "0a3d4b7e-1111-4b6c-9e0f-000000000001", "name": "Kauri Homes Ltd"},
    {"id": "0a3d4b7e-2222-4b6c-9e0f-000000000002", "name": "Kauri Homes Trust"},
]


@pytest.fixture
def xero_server() -> Iterator[Xero]:
    server, running = start()
    try:
        yield running
    finally:
        server.stop()


@pytest.fixture
def cli(db: Any, xero_server: Xero, prefect_api: str, tmp_path: Any) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIERRA_")}
    env.update(
        SIERRA_DATABASE_URL=db.url,
        SIERRA_XERO_PORT=str(urlsplit(xero_server.url).port),
        SIERRA_API_PORT=str(_free_port()),
        PREFECT_API_URL=prefect_api,
        PREFECT_HOME=str(tmp_path / "prefect"),
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sierra_sync", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
            check=False,
        )

    return run


def _pending(sessions: Any, integration_id: uuid.UUID) -> None:
    """What the kit stores when GET /connections lists several organisations."""
    with sessions.begin() as s:
        row = s.get(Integration, integration_id)
        row.connection_status, row.is_connected, row.external_company_id = "connecting", False, None
        row.settings = {**(row.settings or {}), TENANT_CHOICES: CHOICES}


def test_connect_xero_records_the_tenant_and_chooses_among_several(
    cli: Any, sessions: Any, xero_server: Xero
) -> None:
    with sessions.begin() as s:
        factories.company(s, "Kauri Homes")
    assert cli("blocks", "setup", "--local").returncode == 0
    first = cli("connect", "xero", "--company", "Kauri Homes", "--no-browser", "--json")
    assert first.returncode == 0, first.stderr
    made = json.loads(first.stdout)
    tenant = made["tenant"]
    assert tenant["id"] in xero_server.sandbox.orgs and tenant["name"] == "Demo Company (NZ)"
    integration_id = uuid.UUID(made["integration_id"])
    with sessions() as s:
        assert s.get(Integration, integration_id).external_company_id == tenant["id"]

    # a tenant the authorization does not reach: one error naming the one it does
    wrong = cli("connect", "xero", "--company", "Kauri Homes", "--no-browser", "--tenant", "Other Org")
    assert wrong.returncode != 0
    assert "authorization reaches only Demo Company" in wrong.stderr and "not 'Other Org'" in wrong.stderr
    assert "Traceback" not in wrong.stderr

    # several organisations waiting for a choice: --tenant by name records it, no new consent
    _pending(sessions, integration_id)
    chose = cli("connect", "xero", "--company", "Kauri Homes", "--tenant", "kauri homes trust", "--json")
    assert chose.returncode == 0, chose.stderr
    assert json.loads(chose.stdout)["tenant"] == CHOICES[1]
    with sessions() as s:
        row = s.get(Integration, integration_id)
        assert row.connection_status == "connected" and row.external_company_id == CHOICES[1]["id"]
        assert TENANT_CHOICES not in row.settings

    # --tenant means nothing to QuickBooks
    qbo = cli("connect", "quickbooks", "--company", "Kauri Homes", "--tenant", "x")
    assert qbo.returncode != 0 and "--tenant is for providers" in qbo.stderr


def test_without_a_tenant_several_organisations_are_one_error_listing_them(sessions: Any) -> None:
    xero = get_provider("xero")
    with sessions.begin() as s:
        company = factories.company(s, "Totara Builds")
        row = factories.integration(
            s, company.id, integration_type="xero", access_token="sealed", connection_status="connected"
        )
        company_id, integration_id = company.id, row.id
    _pending(sessions, integration_id)
    assert [t.id for t in tenants.pending(sessions, xero, company_id)] == [c["id"] for c in CHOICES]
    with pytest.raises(ConfigError) as listed:
        tenants.settle(sessions, xero, company_id, None)
    message = listed.value.message
    assert message.startswith("this Xero authorization reaches 2 organisations: Kauri Homes Ltd (")
    assert CHOICES[0]["id"] in message and CHOICES[1]["id"] in message
    assert '--company "Totara Builds" --tenant <id or name>' in message
    with pytest.raises(ConfigError, match="no organisation 'Nope'"):
        tenants.settle(sessions, xero, company_id, "Nope")
    chosen = tenants.settle(sessions, xero, company_id, CHOICES[0]["id"].upper())
    assert (chosen.id, chosen.name, chosen.integration_id) == (
        CHOICES[0]["id"],
        "Kauri Homes Ltd",
        integration_id,
    )
    assert tenants.pending(sessions, xero, company_id) == []
    with sessions() as s:
        assert s.get(Integration, integration_id).external_company_id == CHOICES[0]["id"]


def test_two_organisations_of_one_name_need_the_id() -> None:
    same = [Tenant("a", "Same"), Tenant("b", "same")]
    with pytest.raises(ConfigError, match="give --tenant the tenant id"):
        tenants.match(same, "SAME")
    assert tenants.match(same, "b").id == "b"
