"""Payment from Stripe, all the way to the bank, against both sandboxes and both dialects: two invoices paid
by card, Stripe pays the balance out, the signed payout.paid webhook books one QuickBooks Deposit moving
both Payments from Undeposited Funds to Checking; a redelivered event and the scheduled payout run book
nothing twice; reconciliation then matches the payout, the payments and the fee expenses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from connectors.stripe_events.payouts import PAYOUT_ENTITY
from flows.reconcile import reconcile
from flows.stripe_events import book_stripe_payouts_flow
from sierra_core.db.models import EntityLink, Expense, IntegrationSyncLog, Payment
from sierra_core.settings import get_settings
from tests.flows.test_stripe_e2e import (  # noqa: F401 - fixtures and helpers
    env,
    new_invoice,
    pay,
    qbo_link,
    register,
    settle,
    stripe_manual,
)

D = Decimal


def _events(stripe: Any) -> int:
    return len(stripe.admin("GET", "objects/event")["data"])


def test_a_stripe_payout_is_deposited_in_quickbooks_once(env, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SIERRA_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    connected, stripe, receiver = env
    connected.push()  # the company's books in QuickBooks first (its expenses among them)
    invoices = [new_invoice(connected, f"PO-{n}") for n in (1, 2)]
    endpoint = register(stripe, receiver)
    for invoice in invoices:
        pay(stripe, invoice)
    stripe.admin("POST", "webhooks/deliver", {"order": "queued"})
    settle(connected, expected=_events(stripe))

    payout = stripe.admin("POST", "payouts", {})
    stripe.admin("POST", "clock", {"advance_days": 3})  # the payout arrives at the bank: payout.paid
    stripe.admin("POST", "webhooks/deliver", {"order": "queued"})
    settle(connected, expected=_events(stripe))

    with connected.sessions() as s:
        payments = {p.id: p for p in s.scalars(select(Payment).where(Payment.stripe_charge_id.is_not(None)))}
        fees = s.scalars(select(Expense).where(Expense.category == "payment_processing")).all()
    assert len(payments) == 2 and len(fees) == 2
    gross = sum((p.amount for p in payments.values()), D("0"))
    assert D(payout["amount"]) / 100 == gross - sum((f.amount for f in fees), D("0"))  # Stripe sent the net

    [deposit] = connected.qbo_items("Deposit")
    assert deposit["DepositToAccountRef"]["value"] == "35"  # Checking
    assert D(str(deposit["TotalAmt"])) == gross  # the Payments leave Undeposited Funds in full ...
    linked = {t["TxnId"] for line in deposit["Line"] for t in line["LinkedTxn"]}
    assert linked == {qbo_link(connected, "payment", p) for p in payments}  # ... each one, once
    assert deposit["PrivateNote"] == f"Stripe payout {payout['id']}"
    with connected.sessions() as s:
        [link] = s.scalars(select(EntityLink).where(EntityLink.entity_type == PAYOUT_ENTITY)).all()
        logged = s.scalars(
            select(IntegrationSyncLog.status).where(IntegrationSyncLog.entity_type == PAYOUT_ENTITY)
        ).all()
    assert link.external_id == deposit["Id"]
    assert logged == ["success"]

    # Stripe delivers payout.paid again, and the hourly run passes: nothing is booked twice.
    [paid] = [e for e in stripe.admin("GET", "objects/event")["data"] if e["type"] == "payout.paid"]
    stripe.admin("POST", "webhooks/redeliver", {"event_id": paid["id"], "endpoint_id": endpoint})
    scheduled = book_stripe_payouts_flow(lookback_days=30)
    assert (scheduled["created"], scheduled["failed"]) == (0, 0)
    assert [d["deposit_id"] for d in scheduled["deposits"]] == [deposit["Id"]]
    assert len(connected.qbo_items("Deposit")) == 1

    result = reconcile(
        company=str(connected.connection.company_id),
        period_start=date(2000, 1, 1),
        period_end=date(2099, 12, 31),
        tolerance=D("0.00"),
    )
    by_entity = result["by_entity"]
    assert by_entity["payout"]["records_total"] == 1 == by_entity["payout"]["records_matched"]
    assert by_entity["expense"]["records_total"] >= 2
    assert by_entity["expense"]["records_matched"] == by_entity["expense"]["records_total"]
    assert not [d for d in result["discrepancies"] if d["entity_type"] in ("payout", "expense")]
