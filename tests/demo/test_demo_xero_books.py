"""The demo's Xero company, step by step over real sockets: connected through the Xero sandbox's consent and
set up as its bookkeeper would (its sales tax rate, its items); pushed by the neutral engine; the demo's
independent check reads Xero and finds every invoice and payment to the cent; the bookkeeper's edits in
Xero (a memo, a due date 15 days later) go in one batch and come back with the pull; a payment deleted in
Xero is missed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from blocks import TokenEncryptionKeys
from connectors.accounting.pull import Puller
from connectors.accounting.push import Pusher
from connectors.accounting.push_types import PushOptions, Target
from connectors.kit.tokens import DbTokenSource
from connectors.seed.generate import seed
from connectors.xero.client import XeroClient
from connectors.xero.codec import parse_date
from connectors.xero.settings import XeroSettings
from connectors.xero.sync_adapter import XeroSyncAdapter
from sierra_core.db.models import Company, Integration, Invoice
from sierra_sync.demo import world
from sierra_sync.demo.accuracy import check_company
from sierra_sync.demo.books import XeroBooks
from sierra_sync.demo.scenario import edit_in_books
from tests.sandbox.xero.conftest import Xero
from tests.sandbox.xero.conftest import xero as xero


@pytest.fixture
def books(xero: Xero, engine: Any, sessions: Any) -> Iterator[tuple[XeroBooks, Any, Any]]:
    seed(engine, companies=1, invoices=40, seed_value=5)
    with sessions() as s:
        company_id = s.scalar(select(Company.id))
    block, keys = world.xero_block(xero.url), TokenEncryptionKeys.with_new_key()
    integration_id = world.connect(sessions, block, keys, company_id)
    app, ring = block.oauth_app(), keys.keyring()
    with sessions() as s:
        row = s.get(Integration, integration_id)
        assert row is not None and row.integration_type == "xero"
        tenant, settings = str(row.external_company_id), XeroSettings.from_json(row.settings)
    with httpx.Client(timeout=10) as http:
        source = DbTokenSource(sessions, integration_id, ring, app, http)
        with XeroClient(app.api_base_url, tenant, source) as client:
            adapter, target = XeroSyncAdapter(client, settings), Target(integration_id, company_id, settings)
            pushed = Pusher(sessions, adapter, target, PushOptions()).run()
            assert pushed.failures == [], [f.message for f in pushed.failures]
            Puller(sessions, adapter, target).run()  # the cursors
            yield XeroBooks(client), (adapter, target), (integration_id, company_id, tenant)


def test_the_demo_reads_edits_and_checks_a_xero_company(books: Any, xero: Xero, sessions: Any) -> None:
    xero_books, (adapter, target), (integration_id, company_id, tenant) = books
    org = xero.sandbox.orgs[tenant]
    # The organisation was set up with the company's sales tax: the tax type is in the connection.
    taxes = {str(t["TaxType"]) for t in org.docs["TaxRates"].values()}
    assert target.settings.taxable_tax_type in taxes and target.settings.taxable_tax_type != "OUTPUT"

    checked = check_company(sessions, xero_books, integration_id, company_id)
    assert checked.mismatches == [] and checked.duplicates == 0
    assert checked.invoices_ok == checked.invoices_expected > 20
    assert checked.payments_ok == checked.payments_expected > 5
    assert checked.pct == 100.0

    with sessions() as s:
        due_before = {i.invoice_number: i.due_date for i in s.scalars(select(Invoice))}
    calls = xero.sandbox.kit.stats.scope(tenant).requests_total
    assert edit_in_books(sessions, xero_books, integration_id, company_id, invoices=3) == 3
    assert xero.sandbox.kit.stats.scope(tenant).requests_total - calls == 2  # one read, one batch
    edited = [d for d in org.docs["Invoices"].values() if "edited in Xero" in str(d.get("Reference"))]
    assert len(edited) == 3
    for doc in edited:
        moved = parse_date(doc.get("DueDateString") or doc.get("DueDate"))
        assert moved == due_before[str(doc["InvoiceNumber"])] + timedelta(days=15)

    xero.clock.advance(2)
    pulled = Puller(sessions, adapter, target).run()
    assert pulled.count("invoice").updated == 3, pulled.as_dict()
    with sessions() as s:
        for doc in edited:
            row = s.scalar(select(Invoice).where(Invoice.invoice_number == str(doc["InvoiceNumber"])))
            assert row is not None and row.due_date == due_before[row.invoice_number] + timedelta(days=15)
    assert check_company(sessions, xero_books, integration_id, company_id).pct == 100.0

    # A payment deleted in Xero (Xero refuses a second invoice under a booked number): the check says so.
    deleted = next(iter(org.docs["Payments"]))
    xero_books.client.delete_payment(deleted)
    again = check_company(sessions, xero_books, integration_id, company_id)
    assert again.payments_ok == checked.payments_ok - 1 and again.pct < 100.0
    # The payment is missing, and the invoice it paid is open again in Xero: its balance disagrees.
    assert len(again.mismatches) == 2
    assert again.mismatches[1].startswith("payment ") and again.mismatches[1].endswith(": not in Xero")
    assert again.mismatches[0].startswith("invoice ") and "(total/balance due)" in again.mismatches[0]
