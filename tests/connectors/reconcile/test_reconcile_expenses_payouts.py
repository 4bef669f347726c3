"""Reconciliation of expenses (app expenses against QuickBooks Purchases) and Stripe payouts (each payout's
share against the Deposit booked for it), against the QBO sandbox on both dialects."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from connectors.accounting.links import save_link
from connectors.reconcile import repair as repair_mod
from connectors.reconcile.classify import ACTIONS
from connectors.reconcile.run import reconcile_once
from connectors.stripe_events.payouts import PAYOUT_ENTITY, payout_app_id
from sierra_core.db.models import Expense, Payment
from tests.connectors.quickbooks_sync.conftest import connected  # noqa: F401 - fixture
from tests.connectors.reconcile.test_reconcile_sandbox import client_of, link_of, scope_of

PAYOUT = "po_1ReconcileTest0001"


class FakeStripe:
    """One paid payout carrying two charges, each one of the company's app payments (amounts as the app's)."""

    def __init__(self, company_id: uuid.UUID, payments: list[tuple[str, int]]) -> None:
        self.company_id = company_id
        self.payments = payments  # (charge id, amount in cents)

    def list_charges(self, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        for charge_id, amount in self.payments:
            yield {
                "id": charge_id,
                "payment_intent": f"pi_{charge_id[3:]}",
                "amount": amount,
                "amount_refunded": 0,
                "status": "succeeded",
                "metadata": {"company_id": str(self.company_id)},
            }

    def list_balance_transactions(self, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        return iter(())

    def retrieve_charge(self, charge_id: str) -> dict[str, Any]:
        return next(
            c
            for c in self.list_charges(start=datetime.now(UTC), end=datetime.now(UTC))
            if c["id"] == charge_id
        )

    def list_paid_payouts(self, start: datetime, end: datetime | None = None) -> Iterator[dict[str, Any]]:
        total = sum(amount for _, amount in self.payments) - 100  # Stripe sends the net
        yield {"id": PAYOUT, "amount": total, "arrival_date": 1_790_000_000, "status": "paid"}

    def payout_transactions(self, payout_id: str) -> Iterator[dict[str, Any]]:
        for charge_id, _ in self.payments:
            yield {"type": "charge", "source": charge_id}
        yield {"type": "payout", "source": payout_id}


def _kinds(outcome: Any, entity_type: str) -> list[tuple[str, str]]:
    return sorted(
        (d["kind"], d["action"]) for d in outcome.result["discrepancies"] if d["entity_type"] == entity_type
    )


def test_expenses_and_payouts_are_reconciled(connected):  # noqa: F811
    c = connected
    c.push()
    company_id = c.connection.company_id
    with c.sessions.begin() as s:
        payments = s.scalars(select(Payment).where(Payment.company_id == company_id).limit(2)).all()
        charges = []
        for n, payment in enumerate(payments):
            payment.stripe_charge_id = f"ch_reconcile{n}"
            charges.append((payment.stripe_charge_id, int(payment.amount * 100)))
        expenses = s.scalars(select(Expense).where(Expense.company_id == company_id).limit(2)).all()
        edited_id, unpushed_id = expenses[0].id, uuid.uuid4()
        s.add(
            Expense(
                id=unpushed_id,
                company_id=company_id,
                vendor_name="Home Depot",
                category="materials",
                payment_type="credit_card",
                amount=Decimal("318.45"),
                expense_date=date(2026, 10, 14),
                reference_number="HD-88120",
            )
        )
    c.push(types=("payment",))  # the payments' new Stripe ids are app edits: pushed, so they match
    stripe = FakeStripe(company_id, charges)
    gross = Decimal(sum(a for _, a in charges)) / 100

    with client_of(c) as client:
        purchase = client.read("Purchase", link_of(c, "expense", edited_id).external_id)
        line = purchase["Line"][0]
        body = {
            "Id": purchase["Id"],
            "SyncToken": purchase["SyncToken"],
            "sparse": False,
            **{k: purchase[k] for k in ("PaymentType", "AccountRef", "TxnDate")},
            "Line": [{**line, "Amount": Decimal(str(line["Amount"])) + Decimal("10.00")}],
        }
        client.update("Purchase", body, "reconcile-expense-edit")
        outcome = reconcile_once(c.sessions, client, stripe, scope_of(c))
    assert _kinds(outcome, "expense") == [
        ("amount_mismatch", ACTIONS["amount_mismatch"]),  # edited in QuickBooks: the app's amount wins
        ("missing_in_qbo", ACTIONS["missing_in_qbo"]),  # never pushed
    ]
    assert _kinds(outcome, PAYOUT_ENTITY) == [("missing_in_qbo", ACTIONS["payout_missing"])]
    [row] = [d for d in outcome.result["discrepancies"] if d["entity_type"] == PAYOUT_ENTITY]
    assert (row["number"], Decimal(row["app_amount"])) == (PAYOUT, gross)
    plan = repair_mod.plan(outcome.discrepancies, outcome.qbo)
    assert set(plan.push_ids) == {"expense"}  # repair pushes expenses; a payout is the payout flow's
    assert plan.push_ids["expense"] == {edited_id, unpushed_id}

    # A Deposit for the payout, booked by hand with a wrong amount and no link: found by its note ...
    with client_of(c) as client:
        links = [link_of(c, "payment", p.id).external_id for p in payments]
        deposit = client.create(
            "Deposit",
            {
                "DepositToAccountRef": {"value": "35"},
                "TxnDate": "2026-10-20",
                "PrivateNote": f"Stripe payout {PAYOUT}",
                "Line": [
                    {"Amount": str(Decimal(a) / 100), "LinkedTxn": [{"TxnId": t, "TxnType": "Payment"}]}
                    for t, (_, a) in zip(links[:1], charges[:1], strict=True)
                ],
            },
            "reconcile-deposit",
        )
        unlinked = reconcile_once(c.sessions, client, stripe, scope_of(c))
        assert _kinds(unlinked, PAYOUT_ENTITY) == [("unlinked", ACTIONS["payout_missing"])]
        # ... and once linked, its amount is compared with the payout's payments.
        with c.sessions.begin() as s:
            save_link(
                s,
                integration_id=c.connection.integration_id,
                company_id=company_id,
                entity_type=PAYOUT_ENTITY,
                app_id=payout_app_id(PAYOUT, company_id),
                external_id=str(deposit["Id"]),
                sync_token=str(deposit["SyncToken"]),
                version=1,
                external_updated_at=None,
            )
        linked = reconcile_once(c.sessions, client, stripe, scope_of(c))
    assert _kinds(linked, PAYOUT_ENTITY) == [("amount_mismatch", ACTIONS["payout_amount"])]
    assert set(linked.result["by_entity"]) == {"customer", "invoice", "payment", "expense", "payout"}
    assert linked.result["by_entity"]["payout"]["records_total"] == 1
