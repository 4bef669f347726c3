"""One served hub for the browser tests: the whole web app on a free port with a PostgreSQL schema of its
own, the session's QBO sandbox, the session's Prefect test server (Sync now runs the real flow in-process),
a company with an owner, a customer and an invoice to push."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.types import SecretDict
from pydantic import SecretStr
from sqlalchemy import select

from blocks import QBO_APP_BLOCK, TOKEN_KEYS_BLOCK, QuickBooksAppCredentials, TokenEncryptionKeys
from connectors.hub_users import add_user
from connectors.kit import oauth
from connectors.quickbooks.provider import QUICKBOOKS
from sandbox.common.server import LocalServer
from sierra_core.db import migrate
from sierra_core.db.engine import session_factory
from sierra_core.db.models import InvoiceLineItem
from sierra_core.settings import get_settings
from sierra_sync.web import AppDeps, create_app
from sierra_sync.web.hub.runs import InProcessRuns
from sierra_sync.web.oauth_callback import OAuthCallbacks
from tasks import runtime
from tests import factories
from tests.conftest import create_database, drop_schema
from tests.connectors.quickbooks import oauth_helpers as oh
from tests.web.conftest import Switch
from tests.web.hub import helpers as h

AXE = Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"


@dataclass
class Site:
    url: str
    deps: AppDeps
    company_id: uuid.UUID
    owner: str
    member: str
    qbo: Any  # the session's QBO sandbox (tests.conftest.RunningSandbox)


@pytest.fixture(scope="session")
def hub_site(qbo_server, prefect_api, tmp_path_factory) -> Iterator[Site]:
    db, schema = create_database("postgresql", str(tmp_path_factory.mktemp("hub")))
    migrate.upgrade(db.engine)
    sessions = session_factory(db.engine)
    qbo_server.admin("POST", "reset")
    qbo_server.admin("POST", "oauth", {"consent": "auto", "refresh_rotation": "always"})
    switch = Switch()
    runs = InProcessRuns()
    with LocalServer(switch) as server, pytest.MonkeyPatch.context() as mp, httpx.Client(timeout=30) as http:
        mp.setenv("SIERRA_DATABASE_URL", db.url)
        mp.setenv("SIERRA_QBO_RETRY_INITIAL_WAIT", "0.01")
        get_settings.cache_clear()
        runtime.reset_engines()
        redirect = f"{server.url}/oauth/quickbooks_online/callback"
        QuickBooksAppCredentials(
            client_id="local-client",
            client_secret=SecretStr("local-secret"),
            redirect_uri=redirect,
            environment="local",
            local_base_url=qbo_server.url,
        ).save(QBO_APP_BLOCK, overwrite=True)
        TokenEncryptionKeys(keys=SecretDict({"k1": oh.KEY_TEXT}), created={"k1": oh.KEY_CREATED}).save(
            TOKEN_KEYS_BLOCK, overwrite=True
        )
        app = oauth.App(
            provider=QUICKBOOKS,
            environment="local",
            client_id="local-client",
            client_secret="local-secret",
            redirect_uri=redirect,
            local_base=qbo_server.url,
        )
        ring = oh.keyring()
        deps = AppDeps(
            sessions=sessions,
            oauth=OAuthCallbacks(sessions, ring, {QUICKBOOKS.name: app}, http=http),
            webhook_keyring=ring,
            hub=h.config(runs=runs, public_base_url=server.url),
        )
        switch.app = create_app(deps)
        with sessions.begin() as s:
            company = factories.company(s, "Ridgeline Builders")
            owner = add_user(
                s, company.id, "olive@ridgeline.example", "Olive Owner", role="Owner", password=h.PASSWORD
            )
            member = add_user(
                s, company.id, "pat@ridgeline.example", "Pat PM", role="Project Manager", password=h.PASSWORD
            )
            customer = factories.customer(s, company.id)
            invoice = factories.invoice(s, company.id, customer.id, number="1234")
            for line in s.scalars(select(InvoiceLineItem).where(InvoiceLineItem.invoice_id == invoice.id)):
                line.item_code = "FRAMING-LABOR"
            site = Site(server.url, deps, company.id, owner.email, member.email, qbo_server)
        try:
            yield site
        finally:
            runs.close()
            switch.app.state.request_log.close()
            switch.app.state.key_cache.close()
            get_settings.cache_clear()
            runtime.reset_engines()
    db.engine.dispose()
    if schema:
        drop_schema(schema)


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now (empty: none)."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run `make node` (npm ci)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(
            AXE.read_text(encoding="utf-8")
        )  # a DevTools evaluation: the page's CSP allows no inline script
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)"""
    )
    return list(found)
