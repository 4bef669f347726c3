"""Charges, payment methods, refunds, balance transactions, the balance, payouts and disputes."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.stripe import ledger
from sandbox.stripe.errors import invalid_request
from sandbox.stripe.listing import PAGING_PARAMS, paginate, time_filter
from sandbox.stripe.params import JSON, apply_metadata, check_known, get_enum, get_int, get_str
from sandbox.stripe.payment_intents import CURRENCIES
from sandbox.stripe.pipeline import Call, Handler
from sandbox.stripe.state import SandboxState
from sandbox.stripe.store import snapshot

_REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def _retriever(kind: str) -> Handler:
    def retrieve(state: SandboxState, call: Call) -> JSON:
        check_known(call.params, ())
        ledger.settle(state)
        return snapshot(state.store.get(kind, call.path_params["id"]))

    retrieve.__doc__ = f"GET one {kind}."
    return retrieve


def _lister(kind: str, url: str, filters: tuple[str, ...] = ()) -> Handler:
    def list_(state: SandboxState, call: Call) -> JSON:
        check_known(call.params, ("created", *filters, *PAGING_PARAMS))
        ledger.settle(state)
        created = time_filter(call.params)
        wanted = {name: get_str(call.params, name) for name in filters}
        wanted = {k: v for k, v in wanted.items() if v is not None}
        matches: list[Callable[[JSON], bool]] = [lambda obj: created(obj["created"])]
        payout = wanted.pop("payout", None)
        if payout is not None:
            state.store.get("payout", payout, param="payout")
            matches.append(lambda obj: state.paid_out.get(obj["id"]) == payout)
        matches.append(lambda obj: all(obj.get(k) == v for k, v in wanted.items()))
        items = [snapshot(o) for o in state.store.all(kind) if all(m(o) for m in matches)]
        return paginate(items, call.params, url, kind)

    list_.__doc__ = f"GET a list of {kind} objects."
    return list_


def create_refund(state: SandboxState, call: Call) -> JSON:
    """POST /v1/refunds with `charge` or `payment_intent`; `amount` (partial), `reason`, `metadata`."""
    params = call.params
    check_known(params, ("charge", "payment_intent", "amount", "reason", "metadata"))
    charge_id = get_str(params, "charge")
    intent_id = get_str(params, "payment_intent")
    if charge_id and intent_id:
        raise invalid_request(
            "You may only specify one of these parameters: charge, payment_intent.", param="payment_intent"
        )
    if intent_id:
        intent = state.store.get("payment_intent", intent_id, param="payment_intent")
        if intent["status"] != "succeeded" or intent["latest_charge"] is None:
            raise invalid_request(
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        charge_id = intent["latest_charge"]
    if not charge_id:
        raise invalid_request(
            "One of the following params should be provided for this request: payment_intent or charge."
        )
    charge = state.store.get("charge", charge_id, param="charge")
    amount = get_int(params, "amount")
    reason = get_enum(params, "reason", _REFUND_REASONS)
    refund = ledger.refund(state, charge, amount, reason, apply_metadata({}, params), call.request)
    return snapshot(refund)


def create_payout(state: SandboxState, call: Call) -> JSON:
    """POST /v1/payouts: a manual payout from the available balance."""
    params = call.params
    check_known(params, ("amount", "currency", "description", "metadata", "statement_descriptor", "method"))
    amount = get_int(params, "amount", required=True)
    currency = (get_str(params, "currency", required=True) or "").lower()
    if currency not in CURRENCIES:
        raise invalid_request(f"Invalid currency: {currency}.", param="currency")
    assert amount is not None
    payout = ledger.create_payout(
        state,
        amount,
        currency,
        call.request,
        automatic=False,
        description=get_str(params, "description"),
        metadata=apply_metadata({}, params),
    )
    return snapshot(payout)


def balance(state: SandboxState, call: Call) -> JSON:
    """GET /v1/balance."""
    check_known(call.params, ())
    return ledger.balance_object(state)


ROUTES = [
    ("GET", "/v1/charges", _lister("charge", "/v1/charges", ("customer", "payment_intent"))),
    ("GET", "/v1/charges/{id}", _retriever("charge")),
    ("GET", "/v1/payment_methods/{id}", _retriever("payment_method")),
    ("POST", "/v1/refunds", create_refund),
    ("GET", "/v1/refunds", _lister("refund", "/v1/refunds", ("charge", "payment_intent"))),
    ("GET", "/v1/refunds/{id}", _retriever("refund")),
    (
        "GET",
        "/v1/balance_transactions",
        _lister("balance_transaction", "/v1/balance_transactions", ("type", "source", "currency", "payout")),
    ),
    ("GET", "/v1/balance_transactions/{id}", _retriever("balance_transaction")),
    ("GET", "/v1/balance", balance),
    ("POST", "/v1/payouts", create_payout),
    ("GET", "/v1/payouts", _lister("payout", "/v1/payouts", ("status",))),
    ("GET", "/v1/payouts/{id}", _retriever("payout")),
    ("GET", "/v1/disputes", _lister("dispute", "/v1/disputes", ("charge", "payment_intent"))),
    ("GET", "/v1/disputes/{id}", _retriever("dispute")),
]
