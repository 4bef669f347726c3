"""The Xero sandbox's signed webhooks against the project's real ingress (POST /webhooks/xero over a
socket): Xero's intent-to-receive check passes (200 signed, 401 badly signed, within 5 s), and saving a
contact and an invoice delivers events that land in the inbox for the company of the organisation."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from sierra_core.db.models import WebhookEvent
from sierra_sync.web import AppDeps
from tests import factories
from tests.sandbox.xero.conftest import Xero
from tests.web.conftest import WebServer, wait_for
from tests.web.conftest import web_server as web_server

KEY = "xero-sandbox-webhook-key+/="


def _admin(xero: Xero, path: str, body: dict[str, Any]) -> Any:
    answer = httpx.post(f"{xero.url}/__sandbox/{path}", json=body, timeout=15)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_intent_to_receive_and_deliveries_reach_the_inbox(
    xero: Xero, sessions: Any, web_server: WebServer
) -> None:
    tokens = xero.connect()
    with sessions.begin() as s:
        company = factories.company(s)
        factories.integration(s, company.id, integration_type="xero", external_company_id=tokens["tenantId"])
        company_id = company.id
    with web_server.serve(AppDeps(sessions=sessions, webhook_secrets={"xero": [KEY]})):
        _admin(xero, "webhooks", {"url": f"{web_server.url}/webhooks/xero", "webhook_key": KEY})
        check = _admin(xero, "webhooks/intent", {})
        assert check["passed"] is True, check
        assert check["answers"] == {"signed": 200, "badly_signed": 401}
        with xero.api(tokens) as api:
            contact = api.put("/Contacts", json={"Name": "Rimu Roofing"}).json()["Contacts"][0]
            invoice = {"Type": "ACCREC", "Contact": {"ContactID": contact["ContactID"]}}
            made = api.put("/Invoices", json=invoice).json()["Invoices"][0]
            api.post(f"/Contacts/{contact['ContactID']}", json={"EmailAddress": "ap@rimu.example"})

        def stored() -> list[WebhookEvent]:
            with sessions() as s:
                return list(s.scalars(select(WebhookEvent).where(WebhookEvent.provider == "xero")))

        wait_for(lambda: len(stored()) == 3)
        _admin(xero, "webhooks/flush", {})
    rows = stored()
    assert {r.company_id for r in rows} == {company_id}
    assert sorted(str(r.event_type) for r in rows) == [
        "xero.contact.created",
        "xero.contact.updated",
        "xero.invoice.created",
    ]
    assert {r.payload["resourceId"] for r in rows if r.payload} == {contact["ContactID"], made["InvoiceID"]}
    assert all(KEY not in r.raw_payload for r in rows)
