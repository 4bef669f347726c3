"""The demo's world: the local sandboxes (threads of this process), the blocks, seeded companies, and
their QuickBooks or Xero connections made through each sandbox's real OAuth consent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blocks import (
    QBO_APP_BLOCK,
    TOKEN_KEYS_BLOCK,
    XERO_APP_BLOCK,
    QuickBooksAppCredentials,
    TokenEncryptionKeys,
    XeroAppCredentials,
)
from blocks.quickbooks import LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, LOCAL_REDIRECT_URI
from blocks.stripe import (
    LOCAL_STRIPE_CONNECT_CLIENT_ID,
    LOCAL_STRIPE_SECRET_KEY,
    LOCAL_STRIPE_WEBHOOK_SECRET,
    STRIPE_CONNECT_BLOCK,
    StripeConnectCredentials,
    save_stripe_settings,
)
from blocks.xero import LOCAL_XERO_CLIENT_ID, LOCAL_XERO_CLIENT_SECRET, LOCAL_XERO_REDIRECT_URI
from connectors.kit import connect as kit_connect
from connectors.kit import oauth
from connectors.kit.tokens import DbTokenSource
from connectors.xero.client import XeroClient
from sandbox.common.server import LocalServer
from sierra_core.db.models import Company, Integration, Invoice, InvoiceLineItem
from sierra_core.errors import SierraError
from sierra_sync.web.oauth_callback import finish_connection
from sierra_sync.world.up import QBO_STATE, STRIPE_STATE, XERO_STATE

QUICKBOOKS, XERO = "QuickBooks", "Xero"  # the accounting systems, as a bookkeeper names them


@dataclass
class Sandboxes:
    """The sandboxes on free loopback ports, stopped together."""

    qbo: LocalServer
    stripe: LocalServer | None
    xero: LocalServer | None = None
    servers: list[LocalServer] = field(default_factory=list)

    @classmethod
    def start(
        cls, host: str = "127.0.0.1", stripe_webhook_url: str | None = None, state_dir: Path | None = None
    ) -> Sandboxes:
        """Both sandboxes; with `state_dir`, they keep their books in the files `sierra-sync up` reads
        (quickbooks.db, stripe.json and its stripe.connect.sqlite, xero.sqlite: emptied first), so the local
        world carries on with the demo's data."""
        from sandbox.quickbooks import SandboxOptions
        from sandbox.quickbooks import create_app as qbo_app

        # Each connected company gets the sample lists (accounts, items, names) without the sample's own
        # transactions: the accuracy and reconciliation figures count only what the app pushed.
        qbo_file = stripe_file = xero_file = None
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)
            qbo_file, stripe_file = state_dir / QBO_STATE, state_dir / STRIPE_STATE
            xero_file = state_dir / XERO_STATE
            from sandbox.stripe.persist import connect_file  # the Stripe sandbox's Connect state, next to it

            for path in (qbo_file, stripe_file, connect_file(stripe_file), xero_file):
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        qbo_options = SandboxOptions(
            seed=7, new_company="lists", state_file=str(qbo_file) if qbo_file else None
        )
        qbo = LocalServer(qbo_app(qbo_options), host=host).start()
        stripe: LocalServer | None = None
        try:
            from sandbox.stripe import StripeSandboxOptions, WebhookEndpointOptions
            from sandbox.stripe import create_app as stripe_app

            endpoints = (
                [WebhookEndpointOptions(stripe_webhook_url, LOCAL_STRIPE_WEBHOOK_SECRET)]
                if stripe_webhook_url
                else []
            )
            options = StripeSandboxOptions(
                webhook_endpoints=endpoints,
                webhook_retry_base_seconds=0.2,
                webhook_retry_max_seconds=2.0,
                state_file=str(stripe_file) if stripe_file else None,
            )
            stripe = LocalServer(stripe_app(options), host=host).start()
        except ImportError:  # pragma: no cover - the Stripe sandbox ships with the project
            stripe = None
        xero = LocalServer(_xero_app(str(xero_file) if xero_file else None), host=host).start()
        return cls(
            qbo=qbo, stripe=stripe, xero=xero, servers=[s for s in (qbo, stripe, xero) if s is not None]
        )

    def books(self) -> dict[str, LocalServer]:
        """The accounting sandboxes by system name."""
        found = {QUICKBOOKS: self.qbo, XERO: self.xero}
        return {name: server for name, server in found.items() if server is not None}

    def admin(self, system: str, method: str, path: str, body: Any = None) -> Any:
        """The admin API (/__sandbox/) of one accounting sandbox."""
        url = self.books()[system].url
        resp = httpx.request(method, f"{url}/__sandbox/{path}", json=body, timeout=30)
        resp.raise_for_status()
        return resp.json()

    def qbo_admin(self, method: str, path: str, body: Any = None) -> Any:
        return self.admin(QUICKBOOKS, method, path, body)

    def stop(self) -> None:
        for server in reversed(self.servers):
            server.stop()


def _xero_app(state_file: str | None = None) -> Any:
    """The Xero sandbox with Xero's limits per organisation (60 calls a minute, 5 at a time); with
    `state_file`, its organisations and tokens are kept there (where `sierra-sync up` reads them)."""
    from sandbox.kit.spec import KitOptions
    from sandbox.kit.throttle import Limits
    from sandbox.xero import XeroSandboxOptions
    from sandbox.xero import create_app as xero_app

    kit = KitOptions(
        seed=7, limits=Limits(requests_per_minute=60, concurrent_requests=5), state_file=state_file
    )
    return xero_app(XeroSandboxOptions(kit=kit))


def xero_block(xero_url: str) -> XeroAppCredentials:
    """The Xero app block pointing at the demo's Xero sandbox."""
    return XeroAppCredentials(
        client_id=LOCAL_XERO_CLIENT_ID,
        client_secret=SecretStr(LOCAL_XERO_CLIENT_SECRET),
        redirect_uri=LOCAL_XERO_REDIRECT_URI,
        environment="local",
        local_base_url=xero_url,
    )


def local_blocks(qbo_url: str) -> tuple[QuickBooksAppCredentials, TokenEncryptionKeys]:
    """The blocks the demo saves (built before the Prefect server is up, so work can start meanwhile)."""
    app = QuickBooksAppCredentials(
        client_id=LOCAL_CLIENT_ID,
        client_secret=SecretStr(LOCAL_CLIENT_SECRET),
        redirect_uri=LOCAL_REDIRECT_URI,
        environment="local",
        local_base_url=qbo_url,
        webhook_verifier_token=SecretStr("local-verifier-token"),
    )
    return app, TokenEncryptionKeys.with_new_key()


def save_blocks(
    app: QuickBooksAppCredentials,
    keys: TokenEncryptionKeys,
    stripe_url: str | None,
    xero: XeroAppCredentials | None = None,
) -> None:
    app.save(QBO_APP_BLOCK, overwrite=True)
    keys.save(TOKEN_KEYS_BLOCK, overwrite=True)
    if xero is not None:
        xero.save(XERO_APP_BLOCK, overwrite=True)
    if stripe_url is not None:
        secret, webhook = LOCAL_STRIPE_SECRET_KEY, LOCAL_STRIPE_WEBHOOK_SECRET
        save_stripe_settings(secret_key=secret, webhook_secret=webhook, api_base=stripe_url)
        StripeConnectCredentials(
            client_id=LOCAL_STRIPE_CONNECT_CLIENT_ID, environment="local", local_base_url=stripe_url
        ).save(STRIPE_CONNECT_BLOCK, overwrite=True)


def companies(sessions: sessionmaker[Session]) -> list[tuple[uuid.UUID, str]]:
    with sessions() as session:
        rows = session.execute(select(Company.id, Company.name).order_by(Company.name)).all()
    return [(cid, name) for cid, name in rows]


def connect(
    sessions: sessionmaker[Session],
    app_block: QuickBooksAppCredentials | XeroAppCredentials,
    keys: TokenEncryptionKeys,
    company_id: uuid.UUID,
) -> uuid.UUID:
    """Connect one company through its sandbox's OAuth consent (authorization code + PKCE), as a person
    clicking "Connect to QuickBooks" (or Xero) would. A QuickBooks company is mapped to the sample
    company's items; a Xero organisation is set up as its bookkeeper would (see `set_up_xero`)."""
    app, keyring = app_block.oauth_app(), keys.keyring()
    system = XERO if isinstance(app_block, XeroAppCredentials) else QUICKBOOKS
    with httpx.Client(timeout=30) as http:
        if system == QUICKBOOKS:
            app = oauth.discover(http, app)
        auth = kit_connect.begin(sessions, keyring, app, company_id)
        consent = http.get(auth.url, follow_redirects=False)
        location = consent.headers.get("location", "")
        if consent.status_code not in (302, 303) or not location.startswith(app.redirect_uri):
            raise SierraError(f"the {system} sandbox did not grant consent (HTTP {consent.status_code})")
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        integration_id = finish_connection(sessions, keyring, app, http, query)
        if system == XERO:
            set_up_xero(
                sessions, DbTokenSource(sessions, integration_id, keyring, app, http), app, company_id
            )
        return integration_id


def set_up_xero(
    sessions: sessionmaker[Session], tokens: DbTokenSource, app: oauth.App, company_id: uuid.UUID
) -> None:
    """The new Xero organisation as the company's bookkeeper sets it up before the first sync: a sales tax
    rate equal to the company's (its tax type stored in the connection's settings) and the company's items."""
    with sessions() as session:
        row = session.scalar(
            select(Integration).where(
                Integration.company_id == company_id, Integration.integration_type == "xero"
            )
        )
        if row is None:  # pragma: no cover - the connection was just made
            raise SierraError("the Xero connection was not saved")
        tenant = str(row.external_company_id)
        mine = Invoice.company_id == company_id
        rates = sorted(set(session.scalars(select(Invoice.tax_rate).where(mine, Invoice.tax_rate > 0))))
        codes = sorted(
            code
            for code in set(
                session.scalars(
                    select(InvoiceLineItem.item_code)
                    .join(Invoice, Invoice.id == InvoiceLineItem.invoice_id)
                    .where(mine, InvoiceLineItem.item_code.is_not(None))
                )
            )
            if code is not None
        )
    settings: dict[str, Any] = {}
    with XeroClient(app.api_base_url, tenant, tokens) as client:
        if rates:  # the seed gives a company one sales tax rate (its city's)
            component = {"Name": "Sales", "Rate": str(rates[0] * 100)}
            answer = client.call(
                "PUT",
                "TaxRates",
                body={"TaxRates": [{"Name": "Sales Tax", "TaxComponents": [component]}]},
                context="set up the sales tax rate",
            )
            settings["taxable_tax_type"] = answer["TaxRates"][0]["TaxType"]
        if codes:
            items = [{"Code": code, "Name": code.title()} for code in codes]
            client.call("PUT", "Items", body={"Items": items}, context="set up the items")
    with sessions.begin() as session:
        stored = session.get(Integration, row.id)
        assert stored is not None
        stored.settings = {
            **(stored.settings or {}),
            "xero": {**(stored.settings or {}).get("xero", {}), **settings},
        }
