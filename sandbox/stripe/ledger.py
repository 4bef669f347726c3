"""Money movements: charges and their balance transactions (fees), refunds, disputes, payouts, the balance."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sandbox.stripe import objects
from sandbox.stripe.cards import TestCard
from sandbox.stripe.errors import invalid_request
from sandbox.stripe.state import DAY, NO_REQUEST, RequestRef, SandboxState
from sandbox.stripe.store import JSON, snapshot

DISPUTE_FEE = 1500
MANUAL_PAYOUT_PENDING_SECONDS = 3600


def processing_fee(state: SandboxState, amount: int) -> int:
    """Stripe's card fee: fee_percent of the amount, rounded half up to the cent, plus the fixed part."""
    percent = Decimal(str(state.options.fee_percent))
    variable = (Decimal(amount) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(variable) + state.options.fee_fixed_cents


def add_transaction(
    state: SandboxState,
    *,
    amount: int,
    fee: int,
    currency: str,
    source: str,
    type_: str,
    description: str | None,
    available_now: bool = False,
) -> JSON:
    """Record a balance transaction; it is `pending` until `available_on` (sandbox clock)."""
    now = state.now()
    delay = 0 if available_now else state.options.available_after_days * DAY
    txn = objects.balance_transaction(
        state.store.new_id("txn"),
        now,
        amount=amount,
        fee=fee,
        currency=currency,
        source=source,
        type_=type_,
        description=description,
        available_on=now + delay,
    )
    if delay == 0:
        txn["status"] = "available"
    return state.store.add(txn)


def succeed_charge(state: SandboxState, intent: JSON, pm: JSON, capture: bool = True) -> JSON:
    """An authorized charge for the whole intent amount; captured (with its balance transaction) or not."""
    charge_id = state.store.new_id("ch")
    receipt = f"https://pay.stripe.com/receipts/payment/{state.store.token(48)}"
    charge = objects.charge(charge_id, state.now(), intent, pm, receipt)
    state.store.add(charge)
    if not capture:
        charge.update(captured=False, amount_captured=0)
        charge["payment_method_details"]["card"]["capture_before"] = state.now() + 7 * DAY
        return charge
    charge["amount_captured"] = 0
    return capture_charge(state, charge, charge["amount"])


def capture_charge(state: SandboxState, charge: JSON, amount: int) -> JSON:
    """Capture `amount` of an authorized charge: the rest is released (shown as refunded, as Stripe does)."""
    txn = add_transaction(
        state,
        amount=amount,
        fee=processing_fee(state, amount),
        currency=charge["currency"],
        source=charge["id"],
        type_="charge",
        description=charge["description"],
    )
    charge.update(
        captured=True,
        amount_captured=amount,
        amount_refunded=charge["amount"] - amount,
        balance_transaction=txn["id"],
    )
    charge["refunded"] = amount == 0
    charge["payment_method_details"]["card"].pop("capture_before", None)
    return charge


def fail_charge(state: SandboxState, intent: JSON, pm: JSON, card: TestCard) -> JSON:
    """A failed charge: no money moved, no balance transaction."""
    receipt = f"https://pay.stripe.com/receipts/payment/{state.store.token(48)}"
    charge = objects.charge(state.store.new_id("ch"), state.now(), intent, pm, receipt)
    charge.update(
        amount_captured=0,
        captured=False,
        paid=False,
        status="failed",
        failure_code=card.code,
        failure_message=card.message,
        receipt_url=None,
    )
    charge["outcome"].update(
        network_status="declined_by_network",
        reason=card.decline_code,
        seller_message="The bank did not return any further details with this decline.",
        type="issuer_declined",
    )
    return state.store.add(charge)


def refund(
    state: SandboxState,
    charge: JSON,
    amount: int | None,
    reason: str | None,
    metadata: dict[str, str],
    req: RequestRef,
) -> JSON:
    """Refund all or part of a charge: a refund, a negative balance transaction, `charge.refunded`."""
    if charge["status"] != "succeeded":
        raise invalid_request(
            f"Charge {charge['id']} has not succeeded and cannot be refunded.", param="charge"
        )
    if charge["disputed"]:
        raise invalid_request(
            f"Charge {charge['id']} has been charged back; cannot issue a refund.", code="charge_disputed"
        )
    remaining = charge["amount"] - charge["amount_refunded"]
    if remaining <= 0:
        raise invalid_request(
            f"Charge {charge['id']} has already been refunded.",
            code="charge_already_refunded",
            param="charge",
        )
    amount = remaining if amount is None else amount
    if amount <= 0:
        raise invalid_request("Refund amount must be greater than zero.", param="amount")
    if amount > remaining:
        raise invalid_request(
            f"Refund amount (${amount / 100:.2f}) is greater than unrefunded amount on charge "
            f"(${remaining / 100:.2f})",
            param="amount",
            code="amount_too_large",
        )
    re = objects.refund(state.store.new_id("re"), state.now(), charge, amount)
    re["reason"] = reason
    re["metadata"] = metadata
    txn = add_transaction(
        state,
        amount=-amount,
        fee=0,
        currency=charge["currency"],
        source=re["id"],
        type_="refund",
        description=f"REFUND FOR CHARGE ({charge['description'] or charge['id']})",
    )
    re["balance_transaction"] = txn["id"]
    state.store.add(re)
    before = {
        "amount_refunded": charge["amount_refunded"],
        "refunded": charge["refunded"],
        "refunds": snapshot(charge["refunds"]),
    }
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount"]
    refunds = [r for r in state.store.all("refund") if r["charge"] == charge["id"]]
    charge["refunds"]["data"] = [snapshot(r) for r in refunds[:10]]
    charge["refunds"]["has_more"] = len(refunds) > 10
    previous = {k: v for k, v in before.items() if charge[k] != v}
    state.emit("refund.created", re, req)
    state.emit("charge.refunded", charge, req, previous)
    return re


def open_dispute(state: SandboxState, charge: JSON, req: RequestRef = NO_REQUEST) -> JSON:
    """A chargeback on a charge: the amount plus Stripe's dispute fee leave the balance."""
    now = state.now()
    dp = objects.dispute(state.store.new_id("dp"), now, charge, now + 7 * DAY)
    txn = add_transaction(
        state,
        amount=-charge["amount"],
        fee=DISPUTE_FEE,
        currency=charge["currency"],
        source=dp["id"],
        type_="adjustment",
        description=f"Chargeback withdrawal for {charge['id']}",
        available_now=True,
    )
    txn["fee_details"][0]["description"] = "Dispute fee"
    dp["balance_transactions"] = [snapshot(txn)]
    state.store.add(dp)
    charge["disputed"] = True
    state.emit("charge.dispute.created", dp, req)
    return dp


def balances(state: SandboxState) -> dict[str, dict[str, int]]:
    """{"available"|"pending": {currency: amount}} from the balance transactions."""
    settle(state)
    totals: dict[str, dict[str, int]] = {"available": {}, "pending": {}}
    for txn in state.store.all("balance_transaction"):
        bucket = totals["available" if txn["status"] == "available" else "pending"]
        bucket[txn["currency"]] = bucket.get(txn["currency"], 0) + txn["net"]
    return totals


def balance_object(state: SandboxState) -> JSON:
    """GET /v1/balance."""
    totals = balances(state)
    currencies = sorted(set(totals["available"]) | set(totals["pending"])) or ["usd"]

    def funds(kind: str) -> list[JSON]:
        return [
            {
                "amount": totals[kind].get(c, 0),
                "currency": c,
                "source_types": {"card": totals[kind].get(c, 0)},
            }
            for c in currencies
        ]

    return {
        "object": "balance",
        "available": funds("available"),
        "livemode": False,
        "pending": funds("pending"),
    }


def create_payout(
    state: SandboxState,
    amount: int,
    currency: str,
    req: RequestRef,
    *,
    automatic: bool,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
) -> JSON:
    """Pay `amount` out of the available balance: a payout `in_transit` and a negative transaction."""
    available = balances(state)["available"].get(currency, 0)
    if amount <= 0:
        raise invalid_request("Payout amount must be greater than zero.", param="amount")
    if amount > available:
        raise invalid_request(
            "You have insufficient funds in your Stripe account for this transfer. "
            "Your card balance is too low. You can use the /v1/balance endpoint to view your Stripe balance "
            "(for more details, see stripe.com/docs/api#balance).",
            code="balance_insufficient",
            param="amount",
        )
    now = state.now()
    po = objects.payout(
        state.store.new_id("po"),
        now,
        amount=amount,
        currency=currency,
        arrival_date=now + state.options.payout_arrival_days * DAY,
        automatic=automatic,
    )
    if not automatic:
        po["status"] = (
            "pending"  # submitted to the bank after MANUAL_PAYOUT_PENDING_SECONDS (cancelable till then)
        )
    if description is not None:
        po["description"] = description
    po["metadata"] = metadata or {}
    txn = add_transaction(
        state,
        amount=-amount,
        fee=0,
        currency=currency,
        source=po["id"],
        type_="payout",
        description=po["description"],
        available_now=True,
    )
    po["balance_transaction"] = txn["id"]
    state.store.add(po)
    state.emit("payout.created", po, req)
    return po


def force_payout(state: SandboxState, currency: str = "usd") -> JSON:
    """Admin: an automatic payout of everything not yet paid out (pending funds are made available first)."""
    now = state.now()
    included: list[JSON] = []
    for txn in state.store.all("balance_transaction"):
        if txn["currency"] != currency or txn["type"] == "payout" or txn["id"] in state.paid_out:
            continue
        if txn["status"] == "pending":
            txn["status"], txn["available_on"] = "available", now
        included.append(txn)
    amount = sum(t["net"] for t in included)
    po = create_payout(state, amount, currency, NO_REQUEST, automatic=True)
    for txn in included:
        state.paid_out[txn["id"]] = po["id"]
    state.paid_out[po["balance_transaction"]] = po["id"]
    return po


def settle(state: SandboxState) -> None:
    """Let time act: pending funds become available, payouts past their arrival date are paid."""
    now = state.now()
    for txn in state.store.all("balance_transaction"):
        if txn["status"] == "pending" and txn["available_on"] <= now:
            txn["status"] = "available"
    for po in state.store.all("payout"):
        if po["status"] == "pending" and po["created"] + MANUAL_PAYOUT_PENDING_SECONDS <= now:
            po["status"] = "in_transit"
        if po["status"] == "in_transit" and po["arrival_date"] <= now:
            po["status"] = "paid"
            po["reconciliation_status"] = "completed"
            po["trace_id"] = {"status": "supported", "value": f"TRACE{po['id'][-10:].upper()}"}
            state.emit(
                "payout.paid",
                po,
                NO_REQUEST,
                {"status": "in_transit", "reconciliation_status": "not_applicable"},
            )


def cancel_payout(state: SandboxState, payout: JSON, req: RequestRef) -> None:
    """A pending payout is canceled: its amount is back in the balance (a `payout_cancel` transaction)."""
    txn = add_transaction(
        state,
        amount=payout["amount"],
        fee=0,
        currency=payout["currency"],
        source=payout["id"],
        type_="payout_cancel",
        description=f"Cancellation of {payout['id']}",
        available_now=True,
    )
    payout.update(status="canceled", failure_balance_transaction=txn["id"])
    state.emit("payout.canceled", payout, req, {"status": "pending"})


def reverse_payout(state: SandboxState, payout: JSON, metadata: dict[str, str], req: RequestRef) -> JSON:
    """A paid payout is pulled back from the bank: a reversing payout credits the balance."""
    now = state.now()
    reversal = objects.payout(
        state.store.new_id("po"),
        now,
        amount=payout["amount"],
        currency=payout["currency"],
        arrival_date=now + state.options.payout_arrival_days * DAY,
        automatic=False,
    )
    reversal.update(original_payout=payout["id"], metadata=metadata, description="PAYOUT REVERSAL")
    txn = add_transaction(
        state,
        amount=payout["amount"],
        fee=0,
        currency=payout["currency"],
        source=reversal["id"],
        type_="payout",
        description=reversal["description"],
        available_now=True,
    )
    reversal["balance_transaction"] = txn["id"]
    state.store.add(reversal)
    payout["reversed_by"] = reversal["id"]
    state.emit("payout.created", reversal, req)
    state.emit("payout.updated", payout, req, {"reversed_by": None})
    return reversal


def cancel_refund(state: SandboxState, refund: JSON, req: RequestRef) -> None:
    """A refund waiting for customer action is canceled: the money stays with the merchant."""
    txn = add_transaction(
        state,
        amount=refund["amount"],
        fee=0,
        currency=refund["currency"],
        source=refund["id"],
        type_="refund_failure",
        description=f"Cancellation of {refund['id']}",
        available_now=True,
    )
    refund.update(status="canceled", failure_balance_transaction=txn["id"])
    charge = state.store.get("charge", refund["charge"])
    charge["amount_refunded"] -= refund["amount"]
    charge["refunded"] = False
    for listed in charge["refunds"]["data"]:
        if listed["id"] == refund["id"]:
            listed.update(snapshot(refund))
    state.emit("refund.updated", refund, req, {"status": "requires_action"})
