"""The project's side against the Xero sandbox over real sockets: the kit's connect flow (consent, PKCE
S256, the organisation from GET /connections stored as the connection's external_company_id), refresh with
Xero's 30-minute grace, and the Xero connector's client (batch saves with per-record outcomes, paging,
If-Modified-Since, voiding and deleting as Xero allows)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors.kit import connect, oauth
from connectors.kit.registry import get_provider
from connectors.kit.tokens import DbTokenSource, refresh_context
from connectors.xero.client import XeroClient
from connectors.xero.outcomes import BatchRecord, Rejected, Saved
from sierra_core.db.models import Integration
from tests import factories
from tests.connectors.quickbooks.oauth_helpers import keyring
from tests.sandbox.xero.conftest import Xero

GRACE_S = 1800


@pytest.fixture
def connected(xero: Xero, sessions: Any) -> Iterator[tuple[oauth.App, DbTokenSource, str, httpx.Client, Any]]:
    """A company connected to a new sandbox organisation through the connect flow."""
    ring = keyring()
    app = oauth.App(
        provider=get_provider("xero"),
        environment="local",
        client_id="local-client",
        client_secret="local-secret",
        redirect_uri="http://127.0.0.1:9/oauth/xero/callback",
        local_base=xero.url,
    )
    with sessions.begin() as s:
        company_id = factories.company(s).id
    with httpx.Client(timeout=10) as http:
        auth = connect.begin(sessions, ring, app, company_id)
        query = parse_qs(urlsplit(auth.url).query)
        assert query["code_challenge_method"] == ["S256"] and "offline_access" in query["scope"][0].split()
        consent = http.get(auth.url)
        assert consent.status_code == 302, consent.text
        params = {k: v[0] for k, v in parse_qs(urlsplit(consent.headers["location"]).query).items()}
        integration_id = connect.complete(
            sessions, ring, app, http, state=params["state"], code=params.get("code"), callback=params
        )
        with sessions() as s:
            row = s.get(Integration, integration_id)
            assert row is not None and row.connection_status == "connected"
            tenant = str(row.external_company_id)
        source = DbTokenSource(sessions, integration_id, ring, app, http)
        yield app, source, tenant, http, (sessions, ring, integration_id)


def test_connect_stores_the_organisation_and_refresh_keeps_a_grace(xero: Xero, connected: Any) -> None:
    app, source, tenant, http, (sessions, ring, integration_id) = connected
    assert tenant in xero.sandbox.orgs  # the one organisation /connections listed
    with sessions() as s:
        row = s.get(Integration, integration_id)
        first_refresh = ring.open(row.refresh_token, refresh_context(row.id))
    first = source.access_token()
    second = source.refresh_after_401(first)
    assert second != first and source.refreshes == 1
    with sessions() as s:
        row = s.get(Integration, integration_id)
        current = ring.open(row.refresh_token, refresh_context(row.id))
    assert current != first_refresh
    xero.clock.advance(GRACE_S - 60)
    in_grace = oauth.refresh(http, app, first_refresh)  # the used token still works, for a new one
    assert in_grace.refresh_token not in (first_refresh, current)
    xero.clock.advance(61)
    with pytest.raises(oauth.InvalidGrantError):
        oauth.refresh(http, app, first_refresh)
    assert oauth.refresh(http, app, current).access_token  # the newest one was never used: it works


def test_connector_client_saves_pages_and_voids(xero: Xero, connected: Any) -> None:
    app, source, tenant, _http, _db = connected
    with XeroClient(app.api_base_url, tenant, source) as client:
        records = [BatchRecord(f"c{n}", {"Name": f"Crew {n:03d}"}) for n in range(120)]
        records.append(BatchRecord("blank", {"Name": " "}))  # refused alone, the others saved
        outcomes = client.save("Contacts", records)
        assert [type(o) for o in outcomes] == [Saved] * 120 + [Rejected]
        refused, first_saved = outcomes[-1], outcomes[0]
        assert isinstance(refused, Rejected) and isinstance(first_saved, Saved)
        assert refused.messages == ("The contact name must be specified",)
        pulled = list(client.pull("Contacts"))
        assert len(pulled) == 121 and len({c["ContactID"] for c in pulled}) == 121
        assert client.remaining is not None and client.remaining.day is not None
        later = xero.clock.advance(5)
        contact_id = first_saved.xero_id
        invoice = {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact_id},
            "Date": "2026-03-02",
            "Status": "AUTHORISED",
            "LineAmountTypes": "Exclusive",
            "LineItems": [
                {"Description": "Slab", "Quantity": 2, "UnitAmount": "1250.50", "AccountCode": "200"}
            ],
        }
        [saved] = client.save("Invoices", [BatchRecord("inv1", invoice)])
        assert isinstance(saved, Saved)
        assert str(saved.document["Total"]) == "2876.15" and str(saved.document["TotalTax"]) == "375.15"
        changed = list(client.pull("Invoices", modified_since=later - timedelta(seconds=1)))
        assert [i["InvoiceID"] for i in changed] == [saved.xero_id]
        assert list(client.pull("Contacts", modified_since=later - timedelta(seconds=1))) == []
        voided = client.void_invoice(saved.document)
        assert voided["Status"] == "VOIDED"
        draft = client.save("Invoices", [BatchRecord("inv2", {**invoice, "Status": "DRAFT"})])[0]
        assert isinstance(draft, Saved)
        assert client.void_invoice(draft.document)["Status"] == "DELETED"
