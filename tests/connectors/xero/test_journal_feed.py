"""Xero's incremental pull reads the Journals first: an idle sync is one request to the sandbox (counted by
its /__sandbox/stats); a bank transaction edited or a payment added in Xero writes journals and is pulled
(the collections the journals point at, and only those); a contact edit, which writes no journal, is
pulled after its webhook event (the events flag the collection) or by the periodic sweep. Over real
sockets, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from connectors.accounting.pull import FEED, Puller, read_feed_state
from connectors.accounting.pull_types import PullOptions, PullResult
from connectors.accounting.push import Pusher
from connectors.accounting.push_types import PushOptions, Target
from connectors.kit.retry import RetryPolicy
from connectors.kit.tokens import DbTokenSource
from connectors.seed.generate import seed
from connectors.xero import events
from connectors.xero.client import XeroClient
from connectors.xero.sync_adapter import XeroSyncAdapter
from sierra_core import inbox
from sierra_core.db.models import Company, Contact, EntityLink, Expense, Payment, SyncCursor
from sierra_core.db.types import utcnow
from sierra_core.inbox import NewEvent
from tests.connectors.xero.test_sync_engine import XeroCompany, _tokens, connect_company
from tests.sandbox.xero.conftest import Xero
from tests.sandbox.xero.conftest import xero as xero


@pytest.fixture
def company(xero: Xero, engine: Any, sessions: Any) -> XeroCompany:
    seed(engine, companies=1, invoices=12, seed_value=9)
    with sessions() as s:
        company_id = s.scalar(select(Company.id))
    synced = connect_company(xero, sessions, company_id)
    first = _run(synced, "push")
    assert first.failures == [], [f.message for f in first.failures]
    assert _pull(synced).failures == []  # the first pull: every collection from the start
    swept = _pull(synced)  # the first journal read: no journal number yet, and a sweep
    assert swept.failures == [] and swept.requests == 5
    return synced


def _run(company: XeroCompany, what: str, clock: Any = None) -> Any:
    with httpx.Client(timeout=10) as http:
        source = DbTokenSource(company.sessions, company.integration_id, company.ring, company.app, http)
        retry = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05, jitter=0, sleep=lambda s: None)
        with XeroClient(company.app.api_base_url, company.tenant, source, retry=retry) as client:
            adapter = XeroSyncAdapter(client, company.settings)
            target = Target(company.integration_id, company.company_id, company.settings)
            if what == "push":
                return Pusher(company.sessions, adapter, target, PushOptions()).run()
            options = PullOptions(clock=clock) if clock is not None else PullOptions()
            return Puller(company.sessions, adapter, target, options).run()


def _pull(company: XeroCompany, clock: Any = None) -> PullResult:
    result: PullResult = _run(company, "pull", clock)
    return result


def _stats(company: XeroCompany) -> dict[str, Any]:
    answer = httpx.get(f"{company.xero.url}/__sandbox/stats", params={"tenant": company.tenant}, timeout=10)
    assert answer.status_code == 200, answer.text
    stats: dict[str, Any] = answer.json()
    return stats


def _counted(company: XeroCompany, clock: Any = None) -> tuple[PullResult, int, dict[str, int]]:
    """A pull with the requests the sandbox counted for it, in total and by endpoint."""
    before = _stats(company)
    result = _pull(company, clock)
    after = _stats(company)
    by_endpoint = {
        k: v - before["requests_by_endpoint"].get(k, 0)
        for k, v in after["requests_by_endpoint"].items()
        if v != before["requests_by_endpoint"].get(k, 0)
    }
    return result, after["requests_total"] - before["requests_total"], by_endpoint


def _link(company: XeroCompany, entity_type: str) -> EntityLink:
    with company.sessions() as s:
        link: EntityLink | None = s.scalars(
            select(EntityLink).where(
                EntityLink.integration_id == company.integration_id, EntityLink.entity_type == entity_type
            )
        ).first()
    assert link is not None
    return link


def _post(company: XeroCompany, path: str, body: dict[str, Any], method: str = "post") -> dict[str, Any]:
    company.xero.clock.advance(2)
    with company.xero.api(_tokens(company)) as api:
        answer = api.request(method.upper(), path, json=body)
    assert answer.status_code == 200, answer.text
    doc: dict[str, Any] = answer.json()
    return doc


def test_an_idle_pull_is_one_request_and_posted_changes_still_come_in(company: XeroCompany) -> None:
    idle, counted, by_endpoint = _counted(company)
    assert idle.failures == [] and idle.changed == 0
    assert (idle.requests, counted) == (1, 1), by_endpoint
    assert list(by_endpoint) == [next(k for k in by_endpoint if "Journals" in k)]
    assert isinstance(read_feed_state(company.sessions, company.integration_id).get("journal"), int)

    # A bookkeeper changes an expense's amount in Xero: its journal points the pull at BankTransactions.
    expense = _link(company, "expense")
    doc = company.xero.sandbox.orgs[company.tenant].docs["BankTransactions"][expense.external_id]
    lines = [
        {
            k: str(v) if isinstance(v, Decimal) else v
            for k, v in line.items()
            if k not in ("LineItemID", "LineAmount", "TaxAmount")
        }
        | {"UnitAmount": str(Decimal(str(line["UnitAmount"])) + 7)}
        for line in doc["LineItems"]
    ]
    saved = _post(
        company,
        "/BankTransactions",
        {"BankTransactions": [{"BankTransactionID": doc["BankTransactionID"], "LineItems": lines}]},
    )
    total = Decimal(str(saved["BankTransactions"][0]["Total"]))
    edited, counted, by_endpoint = _counted(company)
    assert edited.failures == [] and edited.count("expense").updated == 1, edited.as_dict()
    assert (edited.requests, counted) == (2, 2), by_endpoint
    with company.sessions() as s:
        row = s.get(Expense, expense.app_id)
        assert row is not None and row.amount == total

    # A payment made in Xero: Payments and the invoice it pays are read again.
    org = company.xero.sandbox.orgs[company.tenant]
    invoice = next(
        d
        for d in org.docs["Invoices"].values()
        if d["Status"] == "AUTHORISED" and Decimal(str(d["AmountDue"])) > 1
    )
    body = {
        "Payments": [
            {
                "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                "Account": {"Code": "090"},
                "Amount": "1.00",
                "Date": str(invoice["Date"]),
            }
        ]
    }
    payment = _post(company, "/Payments", body, method="put")["Payments"][0]
    paid, counted, by_endpoint = _counted(company)
    assert paid.failures == [], paid.failures
    assert paid.count("payment").created == 1, paid.as_dict()
    assert (paid.requests, counted) == (3, 3), by_endpoint
    with company.sessions() as s:
        assert s.scalars(select(Payment).where(Payment.amount == Decimal("1.00"))).first() is not None

    # ... and deleting it in Xero (a reversing journal) comes in too.
    _post(company, f"/Payments/{payment['PaymentID']}", {"Status": "DELETED"})
    undone = _pull(company)
    assert undone.failures == [] and undone.count("payment").deleted + undone.count("payment").voided == 1

    again, counted, _ = _counted(company)
    assert (again.requests, counted, again.changed) == (1, 1, 0)


def _edit_contact(company: XeroCompany, email: str) -> EntityLink:
    customer = _link(company, "customer")
    body = {"Contacts": [{"ContactID": customer.external_id, "EmailAddress": email}]}
    _post(company, "/Contacts", body)
    return customer


def _email(company: XeroCompany, customer: EntityLink) -> str | None:
    with company.sessions() as s:
        contact = s.get(Contact, customer.app_id)
        assert contact is not None
        email: str | None = contact.email
        return email


def test_a_contact_edit_comes_in_after_its_webhook_event(company: XeroCompany) -> None:
    customer = _edit_contact(company, "after-webhook@example.org")
    blind = _pull(company)  # no journal sees a contact
    assert blind.requests == 1 and _email(company, customer) != "after-webhook@example.org"

    # Xero's webhook event for the contact (stored by the ingress): its pull reads Contacts.
    with company.sessions.begin() as s:
        [stored] = inbox.store_events(
            s,
            [
                NewEvent(
                    provider="xero",
                    event_id="xero:contact-edit",
                    event_type="xero.contact.update",
                    raw_payload="{}",
                    payload={},
                    company_id=company.company_id,
                    integration_id=company.integration_id,
                )
            ],
        )
    results: list[PullResult] = []

    def pull(company_id: Any) -> dict[str, Any]:
        results.append(_pull(company))
        return {"changed": results[-1].changed}

    run = events.process_events(company.sessions, pull, [stored.event.id], debounce=0)
    assert (run.pulls, run.processed) == (1, 1)
    [flagged] = results
    assert flagged.count("customer").updated == 1 and flagged.requests == 2, flagged.as_dict()
    assert _email(company, customer) == "after-webhook@example.org"
    # the flag is spent: the next pull is idle again
    assert read_feed_state(company.sessions, company.integration_id)["flagged"] == {}
    assert _pull(company).requests == 1


def _cursor(company: XeroCompany, entity_type: str) -> datetime | None:
    with company.sessions() as s:
        at: datetime | None = s.scalar(
            select(SyncCursor.cursor_at).where(
                SyncCursor.integration_id == company.integration_id,
                SyncCursor.entity_type == entity_type,
                SyncCursor.direction == "pull",
            )
        )
    return at


def test_without_webhooks_the_periodic_sweep_pulls_a_contact_edit(company: XeroCompany) -> None:
    held = _cursor(company, "customer")
    customer = _edit_contact(company, "after-sweep@example.org")
    assert _pull(company).requests == 1
    assert _email(company, customer) != "after-sweep@example.org"
    # Contacts was not read: its cursor stays at its last read (the journal row moved on)
    assert held is not None and _cursor(company, "customer") == held
    assert _cursor(company, FEED) != held

    later = utcnow() + timedelta(minutes=company.settings.full_sweep_minutes + 1)
    swept = _pull(company, clock=lambda: later)
    assert swept.requests == 5 and swept.count("customer").updated == 1, swept.as_dict()
    assert _email(company, customer) == "after-sweep@example.org"
    state = read_feed_state(company.sessions, company.integration_id)
    assert datetime.fromisoformat(state["swept_at"]) == later
    assert _cursor(company, "customer") == later
