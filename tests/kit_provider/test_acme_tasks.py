"""What a new provider costs: Acme Tasks (tests/kit_provider/, declaration + adapter + kit sandbox) is
connected through its sandbox's consent page with the kit's connect flow, refreshed (rotation with a grace),
and its sandbox's signed webhook is verified and stored by the app's webhook ingress."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from connectors.kit import connect, oauth
from connectors.kit import registry as providers
from connectors.kit.tokens import DbTokenSource, refresh_context
from sandbox import registry as sandboxes
from sandbox.common.server import LocalServer
from sandbox.kit.clock import Clock
from sandbox.kit.spec import KitOptions
from sierra_core.db.models import Integration, WebhookEvent
from sierra_sync.web import AppDeps, InProcessDispatcher
from tests import factories
from tests.connectors.quickbooks.oauth_helpers import keyring
from tests.kit_provider.provider import ACME_TASKS, ADAPTER
from tests.kit_provider.sandbox import CLIENT_ID, CLIENT_SECRET, ENTRY, AcmeSandbox
from tests.web.conftest import WebServer, wait_for
from tests.web.conftest import web_server as web_server

SECRET = "acme-webhook-secret-for-tests"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture
def acme() -> Iterator[tuple[AcmeSandbox, str]]:
    """The Acme sandbox on a free port, its provider and sandbox registered only for the test."""
    sandbox = AcmeSandbox(KitOptions(clock=Clock(datetime.now(UTC), frozen=True), webhook_retry_delay_s=0.01))
    with providers.registered(ADAPTER), sandboxes.registered(ENTRY), LocalServer(sandbox.app) as server:
        yield sandbox, server.url
    assert "other" not in providers.ADAPTERS and "acme_tasks" not in sandboxes.SANDBOXES


def _consent(http: httpx.Client, base: str, url: str) -> dict[str, str]:
    """Read the consent page, approve it, and return the callback's query."""
    page = http.get(url)
    assert page.status_code == 200 and "Acme Tasks: authorize acme-client" in page.text, page.text
    assert "tasks.write" in page.text
    fields = {name: html.unescape(value) for name, value in HIDDEN.findall(page.text)}
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action is not None
    answer = http.post(f"{base}{action.group(1)}", data={**fields, "decision": "approve"})
    assert answer.status_code == 302, answer.text
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}


def test_acme_tasks_connects_refreshes_and_delivers_a_verified_webhook(acme, sessions, web_server: WebServer):
    sandbox, base = acme
    ring = keyring()
    app = oauth.App(
        provider=providers.get_provider("other"),
        environment="local",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri="http://127.0.0.1:9/oauth/other/callback",
        local_base=base,
    )
    assert app.provider is ACME_TASKS and sandboxes.get_sandbox("acme_tasks") is ENTRY
    with sessions.begin() as s:
        company_id = factories.company(s).id
    with httpx.Client(timeout=10) as http:
        app = oauth.discover(http, app)
        auth = connect.begin(sessions, ring, app, company_id)
        params = _consent(http, base, auth.url)
        integration_id = connect.complete(
            sessions, ring, app, http, state=params["state"], code=params.get("code"), callback=params
        )
        with sessions() as s:
            row = s.get(Integration, integration_id)
            assert row is not None and row.connection_status == "connected"
            workspace, first_refresh = (
                row.external_company_id,
                ring.open(row.refresh_token, refresh_context(row.id)),
            )
        assert workspace in sandbox.workspaces  # the tenant came in the token response (workspace_id)

        # Refresh: a new refresh token each time; the superseded one works for the grace, then dies.
        source = DbTokenSource(sessions, integration_id, ring, app, http)
        first = source.access_token()
        second = source.refresh_after_401(first)
        assert second != first and source.refreshes == 1
        with sessions() as s:
            row = s.get(Integration, integration_id)
            assert row is not None
            current_refresh = ring.open(row.refresh_token, refresh_context(row.id))
        assert current_refresh != first_refresh
        assert oauth.refresh(http, app, first_refresh).refresh_token == current_refresh
        sandbox.kit.clock.advance(601)
        with pytest.raises(oauth.InvalidGrantError):
            oauth.refresh(http, app, first_refresh)

        # A change at Acme: its sandbox signs a webhook, the ingress verifies it and stores it in the inbox.
        deps = AppDeps(
            sessions=sessions,
            webhook_secrets={"other": [SECRET]},
            dispatcher=InProcessDispatcher(sessions),
        )
        with web_server.serve(deps):
            hook = f"{web_server.url}/webhooks/other"
            http.post(f"{base}/__sandbox/webhooks", json={"url": hook, "secret": SECRET}).raise_for_status()
            created = http.post(
                f"{app.api_base_url}/workspaces/{workspace}/tasks",
                json={"title": "Pour footings"},
                headers={"Authorization": f"Bearer {second}"},
            )
            assert created.status_code == 201, created.text

            def stored() -> list[WebhookEvent]:
                with sessions() as s:
                    return list(s.scalars(select(WebhookEvent).where(WebhookEvent.provider == "other")))

            wait_for(lambda: len(stored()) == 1)
            # A delivery signed with another secret is refused (401), retried, then given up.
            http.post(f"{base}/__sandbox/webhooks", json={"secret": "not-the-secret", "attempts": 2})
            forged = http.post(
                f"{base}/__sandbox/webhooks/send",
                json={"workspace_id": workspace, "payload": {"id": "evt_forged", "type": "task.created"}},
            ).json()
        assert forged["delivered"] is False and forged["delivery"]["status"] == 401
        assert forged["delivery"]["attempts"] == 2
    [event] = stored()
    assert event.event_type == "task.created" and event.company_id == company_id
    assert event.payload is not None and event.payload["data"]["title"] == "Pour footings"
    assert SECRET not in event.raw_payload
