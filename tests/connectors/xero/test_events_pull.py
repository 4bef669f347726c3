"""A bookkeeper's edit in Xero reaches the app through Xero's webhook alone: the sandbox signs and delivers
the event to the real ingress (POST /webhooks/xero over a socket), the in-process handler answers it with
a real pull of the company through the Xero adapter (no scheduled sync), and the contact's new e-mail is in
the app database."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select

from connectors.xero import events
from sierra_core.db.models import Contact, EntityLink, WebhookEvent
from sierra_sync.web import AppDeps, InProcessDispatcher
from tests.connectors.xero.test_sync_engine import XeroCompany, _tokens
from tests.connectors.xero.test_sync_engine import company as company
from tests.connectors.xero.test_sync_engine import xero as xero
from tests.web.conftest import WebServer, wait_for
from tests.web.conftest import web_server as web_server

KEY = "xero-events-pull-webhook-key"


def test_an_edit_in_xero_reaches_the_app_through_its_webhook(
    company: XeroCompany,
    web_server: WebServer,
) -> None:
    assert company.adapter_run("push").failures == []
    assert company.adapter_run("pull").failures == []  # the cursors: what the app sent is not news
    with company.sessions() as s:
        link = s.scalars(
            select(EntityLink).where(
                EntityLink.integration_id == company.integration_id, EntityLink.entity_type == "customer"
            )
        ).first()
        assert link is not None
    pulled: list[dict[str, Any]] = []

    def pull(company_id: uuid.UUID) -> dict[str, Any]:
        assert company_id == company.company_id
        result = company.adapter_run("pull")
        pulled.append({"changed": result.changed, "requests": result.requests})
        return pulled[-1]

    handler = events.inbox_handler(company.sessions, pull)
    deps = AppDeps(
        sessions=company.sessions,
        webhook_secrets={"xero": [KEY]},
        dispatcher=InProcessDispatcher(company.sessions, {"xero": handler}),
    )
    with web_server.serve(deps):
        answer = httpx.post(
            f"{company.xero.url}/__sandbox/webhooks",
            json={"url": f"{web_server.url}/webhooks/xero", "webhook_key": KEY},
            timeout=15,
        )
        assert answer.status_code == 200, answer.text
        company.xero.clock.advance(2)
        with company.xero.api(_tokens(company)) as api:
            edit = {"Contacts": [{"ContactID": link.external_id, "EmailAddress": "accounts@kauri.example"}]}
            assert api.post("/Contacts", json=edit).status_code == 200

        def arrived() -> bool:
            with company.sessions() as s:
                contact = s.get(Contact, link.app_id)
                done = set(s.scalars(select(WebhookEvent.status).where(WebhookEvent.provider == "xero")))
                return (
                    contact is not None
                    and contact.email == "accounts@kauri.example"
                    and done == {"processed"}
                )

        wait_for(arrived, timeout=30)
    assert len(pulled) == 1 and pulled[0]["changed"] >= 1  # the pull that brought it, and no other
