"""The neutral sync engine on Xero, end to end over real sockets: a seeded company connected to the Xero
sandbox through the connect flow pushes its rows (contacts, invoices, payments, expenses) and links them;
a second push changes nothing; an edit made in Xero comes back with the next pull and is not pushed back;
a daily allowance that runs out defers records (never fails them). On SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from connectors.accounting.outcome import PushResult
from connectors.accounting.pull import Puller
from connectors.accounting.push import Pusher
from connectors.accounting.push_types import PushOptions, Target
from connectors.kit import connect, oauth
from connectors.kit.registry import get_provider
from connectors.kit.retry import RetryPolicy
from connectors.kit.tokens import DbTokenSource
from connectors.seed.generate import seed
from connectors.xero.client import XeroClient
from connectors.xero.settings import XeroSettings
from connectors.xero.sync_adapter import XeroSyncAdapter
from sierra_core.db.models import (
    Company,
    Contact,
    EntityLink,
    Integration,
    IntegrationSyncLog,
    Invoice,
    InvoiceLineItem,
)
from tests.connectors.quickbooks.oauth_helpers import keyring
from tests.sandbox.xero.conftest import Xero
from tests.sandbox.xero.conftest import xero as xero


@dataclass
class XeroCompany:
    sessions: Any
    xero: Xero
    app: oauth.App
    ring: Any
    integration_id: Any
    company_id: Any
    tenant: str
    settings: XeroSettings

    def adapter_run(self, what: str, **options: Any) -> Any:
        with httpx.Client(timeout=10) as http:
            source = DbTokenSource(self.sessions, self.integration_id, self.ring, self.app, http)
            retry = RetryPolicy(
                max_attempts=3, initial_wait=0.01, max_wait=0.05, jitter=0, sleep=lambda s: None
            )
            with XeroClient(self.app.api_base_url, self.tenant, source, retry=retry) as client:
                adapter = XeroSyncAdapter(client, self.settings)
                target = Target(self.integration_id, self.company_id, self.settings)
                if what == "push":
                    return Pusher(self.sessions, adapter, target, PushOptions(**options)).run()
                return Puller(self.sessions, adapter, target).run()

    def docs(self, resource: str) -> list[dict[str, Any]]:
        return list(self.xero.sandbox.orgs[self.tenant].docs[resource].values())


@pytest.fixture
def company(xero: Xero, engine: Any, sessions: Any) -> XeroCompany:
    seed(engine, companies=1, invoices=12, seed_value=9)
    with sessions() as s:
        company_id = s.scalar(select(Company.id))
    return connect_company(xero, sessions, company_id)


def connect_company(xero: Xero, sessions: Any, company_id: Any) -> XeroCompany:
    """Connect `company_id` to a new sandbox organisation (the kit's connect flow) set up as its bookkeeper
    would: the company's sales tax rate (stored in the connection's settings) and its items."""
    ring = keyring()
    app = oauth.App(
        provider=get_provider("xero"),
        environment="local",
        client_id="local-client",
        client_secret="local-secret",
        redirect_uri="http://127.0.0.1:9/oauth/xero/callback",
        local_base=xero.url,
    )
    with httpx.Client(timeout=10) as http:
        auth = connect.begin(sessions, ring, app, company_id)
        consent = http.get(auth.url)
        assert consent.status_code == 302, consent.text
        params = {k: v[0] for k, v in parse_qs(urlsplit(consent.headers["location"]).query).items()}
        integration_id = connect.complete(
            sessions, ring, app, http, state=params["state"], code=params.get("code"), callback=params
        )
    with sessions() as s:
        row = s.get(Integration, integration_id)
        assert row is not None and row.integration_type == "xero"
        tenant = str(row.external_company_id)
        mine = Invoice.company_id == company_id
        [rate] = s.scalars(select(Invoice.tax_rate).where(mine, Invoice.tax_rate > 0).distinct()).all()
        codes = sorted(
            set(
                s.scalars(
                    select(InvoiceLineItem.item_code)
                    .join(Invoice, Invoice.id == InvoiceLineItem.invoice_id)
                    .where(mine, InvoiceLineItem.item_code.is_not(None))
                )
            )
        )
    company = XeroCompany(sessions, xero, app, ring, integration_id, company_id, tenant, XeroSettings())
    # The organisation as its bookkeeper set it up: the company's sales tax and its items.
    with xero.api(_tokens(company)) as api:
        answer = api.put(
            "/TaxRates",
            json={
                "TaxRates": [
                    {"Name": "Sales Tax", "TaxComponents": [{"Name": "Sales", "Rate": str(rate * 100)}]}
                ]
            },
        )
        assert answer.status_code == 200, answer.text
        company.settings = XeroSettings(taxable_tax_type=answer.json()["TaxRates"][0]["TaxType"])
        items = [{"Code": code, "Name": code.title()} for code in codes]
        assert api.put("/Items", json={"Items": items}).status_code == 200
    with sessions.begin() as s:
        row = s.get(Integration, company.integration_id)
        assert row is not None
        row.settings = {
            **(row.settings or {}),
            "xero": {"taxable_tax_type": company.settings.taxable_tax_type},
        }
    return company


def _sent(result: PushResult) -> int:
    return sum(c.created + c.updated for c in result.counts.values())


def test_app_rows_reach_xero_linked_and_an_edit_there_comes_back(company: XeroCompany) -> None:
    first = company.adapter_run("push")
    assert first.failures == [], [f.message for f in first.failures]
    counts = first.counts
    assert counts["customer"].created > 0 and counts["invoice"].created > 0
    with company.sessions() as s:
        sendable = s.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.status.not_in(["draft", "void"]))
        )
        links = {
            (link.entity_type, link.app_id): link
            for link in s.scalars(
                select(EntityLink).where(EntityLink.integration_id == company.integration_id)
            )
        }
    xero_invoices = company.docs("Invoices")
    assert len(xero_invoices) == sendable == counts["invoice"].created
    assert {str(i["InvoiceID"]) for i in xero_invoices} == {
        link.external_id for (kind, _), link in links.items() if kind == "invoice"
    }
    # Xero's totals (computed by the sandbox) are the app's to the cent.
    with company.sessions() as s:
        for invoice in s.scalars(select(Invoice).where(Invoice.status.not_in(["draft", "void"]))):
            doc = company.xero.sandbox.orgs[company.tenant].docs["Invoices"][
                links["invoice", invoice.id].external_id
            ]
            assert str(doc["Total"]) == str(invoice.total), invoice.invoice_number
    # A batch of contacts and a batch of invoices: one request each, plus one lookup per entity type.
    assert first.batch_requests <= 4

    again = company.adapter_run("push")
    assert _sent(again) == 0 and again.batch_requests == 0

    linked_contacts = {link.external_id for (kind, _), link in links.items() if kind == "customer"}
    xero_only = {
        f"Customer '{c['Name']}'" for c in company.docs("Contacts") if c["ContactID"] not in linked_contacts
    }
    pulled = company.adapter_run("pull")  # the first pull sets the cursors; our own writes are not news
    assert pulled.failures == [], pulled.failures
    # Only what Xero holds and the app never sent comes in: its seeded customer, and the suppliers Xero
    # made of the expenses' payees. Invoices that Xero changed itself (a payment moved their balance)
    # bring nothing the app does not have.
    created = {d.label for d in pulled.decisions if d.action == "create"}
    assert created == xero_only and len(created) > 1
    assert pulled.changed == len(created), [(d.label, d.action, d.reason) for d in pulled.decisions]
    assert pulled.requests == 4  # one If-Modified-Since read per entity type

    # A bookkeeper changes a customer's e-mail in Xero: the next pull brings it into the app ...
    customer = next(link for (kind, _), link in links.items() if kind == "customer")
    company.xero.clock.advance(2)
    with company.xero.api(_tokens(company)) as api:
        answer = api.post(
            "/Contacts",
            json={"Contacts": [{"ContactID": customer.external_id, "EmailAddress": "billing@example.org"}]},
        )
        assert answer.status_code == 200, answer.text
    edited = company.adapter_run("pull")
    assert edited.count("customer").updated == 1, edited.as_dict()
    with company.sessions() as s:
        contact = s.get(Contact, customer.app_id)
        assert contact is not None and contact.email == "billing@example.org"
    # ... and the push does not send it back.
    after = company.adapter_run("push")
    assert _sent(after) == 0


def test_an_amount_edited_in_the_app_reaches_xero(company: XeroCompany) -> None:
    """Xero's ids are UUIDs: their dashes do not make an invoice "part of a split payment" the push leaves
    alone (it once acknowledged such edits without sending them)."""
    assert company.adapter_run("push").failures == []
    with company.sessions.begin() as s:
        invoice = s.scalars(
            select(Invoice).where(Invoice.status == "sent").order_by(Invoice.invoice_number)
        ).first()
        assert invoice is not None
        line = min(invoice.lines, key=lambda li: li.line_number)
        line.quantity += 1
        line.amount = (line.quantity * line.unit_price).quantize(Decimal("0.01"))
        taxable = sum((li.amount for li in invoice.lines if li.taxable), Decimal("0.00"))
        invoice.subtotal = sum((li.amount for li in invoice.lines), Decimal("0.00"))
        invoice.tax_amount = (taxable * invoice.tax_rate).quantize(Decimal("0.01"))
        invoice.total = invoice.balance = invoice.subtotal + invoice.tax_amount
        invoice.version += 1
        invoice_id, total = invoice.id, invoice.total
    pushed = company.adapter_run("push")
    assert pushed.count("invoice").updated == 1 and pushed.count("invoice").skipped == 0, pushed.as_dict()
    with company.sessions() as s:
        link = s.scalar(select(EntityLink).where(EntityLink.app_id == invoice_id))
        assert link is not None and "-" in link.external_id
    doc = company.xero.sandbox.orgs[company.tenant].docs["Invoices"][link.external_id]
    assert Decimal(str(doc["Total"])) == total


def test_a_spent_daily_allowance_defers_records_and_never_fails_them(company: XeroCompany) -> None:
    company.xero.sandbox.options.day_limit = 2  # the first lookups spend the day
    result = company.adapter_run("push")
    assert result.failures == []
    deferred = sum(c.deferred for c in result.counts.values())
    assert deferred > 0 and result.resume_at is not None
    with company.sessions() as s:
        rows = list(s.scalars(select(IntegrationSyncLog).where(IntegrationSyncLog.status == "failed")))
        waiting = list(s.scalars(select(IntegrationSyncLog).where(IntegrationSyncLog.status == "retrying")))
    assert rows == []
    assert len(waiting) == deferred
    assert all(w.error_code == "budget_exhausted" and w.next_retry_at == result.resume_at for w in waiting)


def _tokens(company: XeroCompany) -> dict[str, Any]:
    with httpx.Client(timeout=10) as http:
        source = DbTokenSource(company.sessions, company.integration_id, company.ring, company.app, http)
        return {"access_token": source.access_token(), "tenantId": company.tenant}
