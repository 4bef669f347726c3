"""/v1/payment_intents: create (with `confirm=true`), retrieve, update, confirm, cancel, list.

Test payment methods decide the outcome: `pm_card_visa` succeeds, `pm_card_chargeDeclined` is declined (402
card_error, the intent back to `requires_payment_method` with `last_payment_error`),
`pm_card_authenticationRequired` stops at `requires_action` until
POST /__sandbox/payment_intents/{id}/authenticate.
"""

from __future__ import annotations

from sandbox.stripe import ledger, objects
from sandbox.stripe.cards import TEST_CARDS, TestCard
from sandbox.stripe.errors import StripeError, invalid_request, resource_missing, unexpected_state
from sandbox.stripe.listing import PAGING_PARAMS, paginate, time_filter
from sandbox.stripe.params import (
    JSON,
    apply_metadata,
    check_known,
    get_bool,
    get_enum,
    get_hash,
    get_int,
    get_str,
    get_str_list,
)
from sandbox.stripe.payment_methods import create_card
from sandbox.stripe.pipeline import Call
from sandbox.stripe.state import RequestRef, SandboxState
from sandbox.stripe.store import snapshot

CURRENCIES = frozenset({"usd", "cad", "eur", "gbp", "aud", "nzd", "mxn", "chf", "sek", "nok", "dkk"})
MIN_AMOUNT, MAX_AMOUNT = 50, 99_999_999
_COMMON = (
    "amount", "currency", "customer", "description", "metadata", "payment_method", "payment_method_types",
    "receipt_email", "statement_descriptor", "statement_descriptor_suffix", "setup_future_usage", "shipping",
    "transfer_group", "payment_method_options", "payment_method_data",
)  # fmt: skip
_CREATE = (*_COMMON, "automatic_payment_methods", "confirm", "capture_method", "confirmation_method",
           "return_url", "off_session", "error_on_requires_action")  # fmt: skip
_CONFIRM = ("payment_method", "payment_method_data", "receipt_email", "return_url", "setup_future_usage",
            "shipping", "off_session",
            "error_on_requires_action", "payment_method_options")  # fmt: skip
_UPDATABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
_CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
_CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action",
               "processing")  # fmt: skip
_AUTH_FAILED = (
    "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new "
    "PaymentMethod to attempt to fulfill this PaymentIntent again."
)


def _amount(params: JSON, currency: str, required: bool) -> int | None:
    amount = get_int(params, "amount", required=required)
    if amount is None:
        return None
    if amount < MIN_AMOUNT:
        raise invalid_request(
            f"Amount must be at least $0.50 {currency}", param="amount", code="amount_too_small"
        )
    if amount > MAX_AMOUNT:
        raise invalid_request(
            "Amount must be no more than $999,999.99", param="amount", code="amount_too_large"
        )
    return amount


def _currency(params: JSON, required: bool) -> str | None:
    currency = get_str(params, "currency", required=required)
    if currency is None:
        return None
    if currency.lower() not in CURRENCIES:
        raise invalid_request(f"Invalid currency: {currency}.", param="currency")
    return currency.lower()


def resolve_payment_method(state: SandboxState, pm_id: str) -> JSON:
    """A stored PaymentMethod, or a new one made from a test token such as `pm_card_visa`."""
    if pm_id in TEST_CARDS:
        pm = objects.payment_method(
            state.store.new_id("pm"), state.now(), TEST_CARDS[pm_id], state.store.token(16)
        )
        state.card_behaviour[pm["id"]] = pm_id
        return state.store.add(pm)
    found = state.store.find(pm_id)
    if found is None or found.get("object") != "payment_method":
        raise resource_missing("PaymentMethod", pm_id, "payment_method")
    return found


def _apply_common(state: SandboxState, intent: JSON, params: JSON) -> None:
    currency = _currency(params, required=False)
    if currency is not None:
        intent["currency"] = currency
    amount = _amount(params, intent["currency"], required=False)
    if amount is not None:
        intent["amount"] = amount
    if "customer" in params:
        customer_id = get_str(params, "customer")
        if customer_id is not None:
            state.store.get("customer", customer_id, param="customer")
        intent["customer"] = customer_id
    for name in ("description", "receipt_email", "statement_descriptor", "statement_descriptor_suffix",
                 "setup_future_usage", "transfer_group"):  # fmt: skip
        if name in params:
            intent[name] = get_str(params, name)
    if "shipping" in params:
        intent["shipping"] = objects.shipping(get_hash(params, "shipping"))
    if "payment_method_types" in params:
        intent["payment_method_types"] = get_str_list(params, "payment_method_types") or ["card"]
        intent["automatic_payment_methods"] = None
        intent["payment_method_configuration_details"] = None
    intent["metadata"] = apply_metadata(intent["metadata"], params)
    options = get_hash(params, "payment_method_options")
    if options is not None:
        intent["payment_method_options"] = card_options(options)
    pm_id = _payment_method_param(state, params)
    if pm_id is not None:
        intent["payment_method"] = pm_id
        if intent["status"] == "requires_payment_method":
            intent["status"] = "requires_confirmation"


def _payment_method_param(state: SandboxState, params: JSON) -> str | None:
    """The PaymentMethod named by `payment_method`, or made from `payment_method_data`."""
    pm_id = get_str(params, "payment_method")
    data = get_hash(params, "payment_method_data")
    if pm_id is not None and data is not None:
        raise invalid_request(
            "You may only specify one of these parameters: payment_method, payment_method_data.",
            param="payment_method_data",
        )
    if data is not None:
        if data.get("type") == "card":  # other types are refused by name in create_card
            check_known(data, ("type", "card", "billing_details", "metadata", "allow_redisplay"))
        return str(create_card(state, data, "payment_method_data[")["id"])
    return None if pm_id is None else str(resolve_payment_method(state, pm_id)["id"])


def card_options(options: JSON) -> JSON:
    """`payment_method_options` as the intent shows it (card options only)."""
    check_known(options, ("card",))
    card = get_hash(options, "card") or {}
    check_known(card, ("capture_method", "request_incremental_authorization", "request_three_d_secure",
                       "setup_future_usage"))  # fmt: skip
    return {
        "card": {
            "installments": None,
            "mandate_options": None,
            "network": None,
            "request_incremental_authorization": get_enum(
                card, "request_incremental_authorization", ("if_available", "never")
            ),
            "request_three_d_secure": get_enum(
                card, "request_three_d_secure", ("any", "automatic", "challenge"), "automatic"
            ),
        }
    }


def create(state: SandboxState, call: Call) -> JSON:
    """POST /v1/payment_intents."""
    params = call.params
    check_known(params, _CREATE)
    currency = _currency(params, required=True)
    assert currency is not None
    _amount(params, currency, required=True)
    automatic = get_hash(params, "automatic_payment_methods")
    if automatic is not None and "payment_method_types" in params:
        raise invalid_request(
            "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.",
            param="automatic_payment_methods",
        )
    capture = get_enum(params, "capture_method", ("automatic", "automatic_async", "manual"), "automatic")
    intent_id = state.store.new_id("pi")
    intent = objects.payment_intent(intent_id, state.now(), f"{intent_id}_secret_{state.store.token(25)}")
    intent["capture_method"] = capture
    enabled = automatic is None or get_bool(automatic, "enabled")
    if "payment_method_types" not in params and enabled:
        intent["automatic_payment_methods"] = {"enabled": True}
        intent["payment_method_configuration_details"] = {"id": "pmc_1SierraSandboxConfig001", "parent": None}
    _apply_common(state, intent, params)
    state.store.add(intent)
    state.emit("payment_intent.created", intent, call.request)
    if get_bool(params, "confirm"):
        _confirm(state, intent, params, call.request)
    return snapshot(intent)


def retrieve(state: SandboxState, call: Call) -> JSON:
    """GET /v1/payment_intents/{id}."""
    check_known(call.params, ("client_secret",))
    return snapshot(state.store.get("payment_intent", call.path_params["id"]))


def update(state: SandboxState, call: Call) -> JSON:
    """POST /v1/payment_intents/{id}: amount and payment fields only before the intent succeeds."""
    check_known(call.params, _COMMON)
    intent = state.store.get("payment_intent", call.path_params["id"])
    money_fields = {"amount", "currency", "payment_method", "payment_method_types", "customer"}
    if intent["status"] not in _UPDATABLE and money_fields & set(call.params):
        field = sorted(money_fields & set(call.params))[0]
        raise unexpected_state(
            f"This PaymentIntent's {field} could not be updated because it has a status of "
            f"{intent['status']}. You may only update the {field} of a PaymentIntent with one of the "
            f"following statuses: {', '.join(_UPDATABLE)}."
        )
    _apply_common(state, intent, call.params)
    return snapshot(intent)


def confirm(state: SandboxState, call: Call) -> JSON:
    """POST /v1/payment_intents/{id}/confirm."""
    check_known(call.params, _CONFIRM)
    intent = state.store.get("payment_intent", call.path_params["id"])
    _confirm(state, intent, call.params, call.request)
    return snapshot(intent)


def _confirm(state: SandboxState, intent: JSON, params: JSON, req: RequestRef) -> None:
    status = intent["status"]
    if status == "succeeded":
        raise unexpected_state(
            "You cannot confirm this PaymentIntent because it has already succeeded after being previously "
            "confirmed."
        )
    if status not in _CONFIRMABLE:
        raise unexpected_state(
            f"You cannot confirm this PaymentIntent because it has a status of {status}. "
            "Only a PaymentIntent with one of the following statuses may be confirmed: "
            f"{', '.join(_CONFIRMABLE)}."
        )
    pm_id = _payment_method_param(state, params)
    if pm_id is not None:
        intent["payment_method"] = pm_id
    if "receipt_email" in params:
        intent["receipt_email"] = get_str(params, "receipt_email")
    if intent["payment_method"] is None:
        raise unexpected_state(
            "You cannot confirm this PaymentIntent because it's missing a payment method. "
            "You can either update the PaymentIntent with a payment method and then confirm it again, "
            "or confirm it again directly with a payment method."
        )
    pm = state.store.get("payment_method", intent["payment_method"], param="payment_method")
    card = TEST_CARDS[state.card_behaviour.get(pm["id"], "pm_card_visa")]
    intent["last_payment_error"] = None
    intent["next_action"] = None
    if card.outcome == "decline":
        _decline(state, intent, pm, card, req)
    if card.outcome == "authenticate":
        if get_bool(params, "off_session"):
            _decline(state, intent, pm, _AUTH_DECLINE, req)
        intent["status"] = "requires_action"
        intent["next_action"] = {
            "type": "use_stripe_sdk",
            "use_stripe_sdk": {
                "type": "three_d_secure_redirect",
                "stripe_js": f"https://hooks.stripe.com/redirect/authenticate/src_{state.store.token(24)}",
                "source": f"src_{state.store.token(24)}",
            },
        }
        state.emit("payment_intent.requires_action", intent, req)
        return
    succeed(state, intent, pm, req)
    if card.outcome == "dispute" and intent["status"] == "succeeded":
        ledger.open_dispute(state, state.store.get("charge", intent["latest_charge"]), req)


_AUTH_DECLINE = TestCard(
    "visa",
    "3184",
    outcome="decline",
    code="authentication_required",
    decline_code="authentication_required",
    message="Your card was declined. This transaction requires authentication.",
)


def succeed(state: SandboxState, intent: JSON, pm: JSON, req: RequestRef) -> None:
    """Charge the card: the intent succeeds, with a charge and a balance transaction behind it.

    With `capture_method=manual` the card is only authorized: the intent waits in `requires_capture`.
    """
    manual = intent["capture_method"] == "manual"
    charge = ledger.succeed_charge(state, intent, pm, capture=not manual)
    intent["next_action"] = None
    intent["latest_charge"] = charge["id"]
    state.emit("charge.succeeded", charge, req)
    if manual:
        card_options_ = intent["payment_method_options"].get("card") or {}
        if card_options_.get("request_incremental_authorization") == "if_available":
            charge["payment_method_details"]["card"]["incremental_authorization"] = {"status": "available"}
        intent.update(status="requires_capture", amount_capturable=intent["amount"])
        state.emit("payment_intent.amount_capturable_updated", intent, req)
        return
    intent.update(status="succeeded", amount_received=intent["amount"])
    state.emit("payment_intent.succeeded", intent, req)


def _decline(state: SandboxState, intent: JSON, pm: JSON, card: TestCard, req: RequestRef) -> None:
    charge = ledger.fail_charge(state, intent, pm, card)
    error = StripeError(
        402,
        "card_error",
        card.message or "Your card was declined.",
        code=card.code,
        param=card.param,
        extra={"charge": charge["id"], "decline_code": card.decline_code, "payment_method": snapshot(pm)},
    )
    intent["last_payment_error"] = error.body()["error"]
    intent.update(status="requires_payment_method", latest_charge=charge["id"], payment_method=None)
    state.emit("charge.failed", charge, req)
    state.emit("payment_intent.payment_failed", intent, req)
    error.extra["payment_intent"] = snapshot(intent)
    raise error


def authenticate(state: SandboxState, intent: JSON, success: bool) -> None:
    """Admin: the customer completes (or fails) the 3-D Secure step of an intent in `requires_action`."""
    if intent["status"] != "requires_action":
        raise unexpected_state(f"PaymentIntent {intent['id']} is not waiting for authentication.")
    pm = state.store.get("payment_method", intent["payment_method"], param="payment_method")
    req = RequestRef()
    if success:
        succeed(state, intent, pm, req)
        return
    intent.update(status="requires_payment_method", next_action=None, payment_method=None)
    intent["last_payment_error"] = {
        "code": "payment_intent_authentication_failure",
        "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
        "message": _AUTH_FAILED,
        "payment_method": snapshot(pm),
        "type": "invalid_request_error",
    }
    state.emit("payment_intent.payment_failed", intent, req)


def cancel(state: SandboxState, call: Call) -> JSON:
    """POST /v1/payment_intents/{id}/cancel."""
    check_known(call.params, ("cancellation_reason",))
    intent = state.store.get("payment_intent", call.path_params["id"])
    reason = get_enum(
        call.params,
        "cancellation_reason",
        ("duplicate", "fraudulent", "requested_by_customer", "abandoned"),
    )
    if intent["status"] not in _CANCELABLE:
        raise unexpected_state(
            f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}. Only a "
            f"PaymentIntent with one of the following statuses may be canceled: {', '.join(_CANCELABLE)}."
        )
    intent.update(status="canceled", canceled_at=state.now(), cancellation_reason=reason, next_action=None)
    state.emit("payment_intent.canceled", intent, call.request)
    return snapshot(intent)


def list_(state: SandboxState, call: Call) -> JSON:
    """GET /v1/payment_intents with `customer`, `created` and paging."""
    check_known(call.params, ("customer", "created", *PAGING_PARAMS))
    customer = get_str(call.params, "customer")
    created = time_filter(call.params)
    items = [
        snapshot(pi)
        for pi in state.store.all("payment_intent")
        if created(pi["created"]) and (customer is None or pi["customer"] == customer)
    ]
    return paginate(items, call.params, "/v1/payment_intents", "payment_intent")


ROUTES = [
    ("POST", "/v1/payment_intents", create),
    ("GET", "/v1/payment_intents", list_),
    ("GET", "/v1/payment_intents/{id}", retrieve),
    ("POST", "/v1/payment_intents/{id}", update),
    ("POST", "/v1/payment_intents/{id}/confirm", confirm),
    ("POST", "/v1/payment_intents/{id}/cancel", cancel),
]
