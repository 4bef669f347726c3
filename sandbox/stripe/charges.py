"""/v1/charges: create (the legacy Charges API: `source` a test token or a card PaymentMethod, or a customer's
default payment method), retrieve, update, list. Capture is in `captures`, search in `search`."""

from __future__ import annotations

from sandbox.stripe import ledger, objects
from sandbox.stripe.cards import TEST_CARDS, test_card_for_token
from sandbox.stripe.errors import StripeError, invalid_request
from sandbox.stripe.params import JSON, apply_metadata, check_known, get_bool, get_hash, get_str
from sandbox.stripe.payment_intents import _amount, _currency, resolve_payment_method
from sandbox.stripe.pipeline import Call
from sandbox.stripe.state import SandboxState
from sandbox.stripe.store import snapshot

_TEXT = (
    "description",
    "receipt_email",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "transfer_group",
)
_CREATE = ("amount", "currency", "source", "customer", "capture", "metadata", "shipping", *_TEXT)
_UPDATE = (
    "customer",
    "description",
    "fraud_details",
    "metadata",
    "receipt_email",
    "shipping",
    "transfer_group",
)


def _payment_method(state: SandboxState, source: str | None, customer: JSON | None) -> JSON:
    if source is not None:
        token = test_card_for_token(state.store.resolve(source))
        return resolve_payment_method(state, token or source)
    if customer is None:
        raise invalid_request("Must provide source or customer.", code="parameter_missing")
    default = customer["invoice_settings"]["default_payment_method"]
    attached = [pm["id"] for pm in state.store.all("payment_method") if pm["customer"] == customer["id"]]
    chosen = default or next(iter(attached), None)
    if chosen is None:
        raise invalid_request(
            "Cannot charge a customer that has no active card", param="card", code="missing"
        )
    return state.store.get("payment_method", chosen, param="source")


def create(state: SandboxState, call: Call) -> JSON:
    """POST /v1/charges: charged at once, or only authorized with `capture=false`."""
    params = call.params
    check_known(params, _CREATE)
    currency = _currency(params, required=True)
    assert currency is not None
    amount = _amount(params, currency, required=True)
    customer_id = get_str(params, "customer")
    customer = None if customer_id is None else state.store.get("customer", customer_id, param="customer")
    pm = _payment_method(state, get_str(params, "source"), customer)
    basis: JSON = {
        "id": None,
        "amount": amount,
        "currency": currency,
        "customer": None if customer is None else customer["id"],
        "metadata": apply_metadata({}, params),
        "shipping": objects.shipping(get_hash(params, "shipping")),
        **{name: get_str(params, name) for name in _TEXT},
    }
    card = TEST_CARDS[state.card_behaviour.get(pm["id"], "pm_card_visa")]
    if card.outcome in ("decline", "authenticate"):
        failed = ledger.fail_charge(state, basis, pm, card)
        state.emit("charge.failed", failed, call.request)
        raise StripeError(
            402,
            "card_error",
            card.message or "Your card was declined.",
            code=card.code or "card_declined",
            param=card.param,
            extra={"charge": failed["id"], "decline_code": card.decline_code or "generic_decline"},
        )
    charge = ledger.succeed_charge(state, basis, pm, capture=get_bool(params, "capture", True))
    charge["transfer_group"] = basis["transfer_group"]
    state.emit("charge.succeeded", charge, call.request)
    if charge["captured"]:
        state.emit("charge.captured", charge, call.request)
        if card.outcome == "dispute":
            ledger.open_dispute(state, charge, call.request)
    return snapshot(charge)


def update(state: SandboxState, call: Call) -> JSON:
    """POST /v1/charges/{id}: descriptive fields and metadata; `customer` only while none is set."""
    params = call.params
    check_known(params, _UPDATE)
    charge = state.store.get("charge", call.path_params["id"])
    before = snapshot(charge)
    customer_id = get_str(params, "customer")
    if customer_id is not None and customer_id != charge["customer"]:
        if charge["customer"] is not None:
            raise invalid_request("The customer of a charge cannot be changed once set.", param="customer")
        charge["customer"] = state.store.get("customer", customer_id, param="customer")["id"]
    for name in ("description", "receipt_email", "transfer_group"):
        if name in params:
            charge[name] = get_str(params, name)
    if "shipping" in params:
        charge["shipping"] = objects.shipping(get_hash(params, "shipping"))
    fraud = get_hash(params, "fraud_details")
    if fraud is not None:
        check_known(fraud, ("user_report",))
        charge["fraud_details"] = {"user_report": get_str(fraud, "user_report")}
    charge["metadata"] = apply_metadata(charge["metadata"], params)
    previous = {k: before[k] for k in charge if before.get(k) != charge[k]}
    if previous:
        state.emit("charge.updated", charge, call.request, previous)
    return snapshot(charge)


ROUTES = [
    ("POST", "/v1/charges", create),
    ("POST", "/v1/charges/{id}", update),
]
