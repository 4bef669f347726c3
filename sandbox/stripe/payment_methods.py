"""/v1/payment_methods: create (card), retrieve, list (`customer`, `type`), attach, detach, update;
and GET /v1/customers/{id}/payment_methods[/{pm}].

Cards come from Stripe's test numbers (`card[number]=4242424242424242`) or test tokens
(`card[token]=tok_visa`); a card keeps the behaviour of its test number when it is charged.
Only `type=card` is served.
"""

from __future__ import annotations

import datetime

from sandbox.stripe import objects
from sandbox.stripe.cards import TEST_CARDS, TEST_NUMBERS, TestCard, test_card_for_token
from sandbox.stripe.errors import StripeError, invalid_request, missing_param
from sandbox.stripe.listing import PAGING_PARAMS, paginate
from sandbox.stripe.params import JSON, apply_metadata, check_known, get_enum, get_hash, get_int, get_str
from sandbox.stripe.pipeline import Call
from sandbox.stripe.state import RequestRef, SandboxState
from sandbox.stripe.store import snapshot

_ALLOW_REDISPLAY = ("always", "limited", "unspecified")
_BILLING = ("address", "email", "name", "phone", "tax_id")


def card_error(message: str, code: str, param: str) -> StripeError:
    """402 card_error raised while reading card details."""
    return StripeError(402, "card_error", message, code=code, param=param)


def _today(state: SandboxState) -> datetime.date:
    return datetime.datetime.fromtimestamp(state.now(), tz=datetime.UTC).date()


def _luhn(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


def _card_from_details(state: SandboxState, card: JSON) -> tuple[str, TestCard, int, int]:
    """(test card name, card, exp_month, exp_year) from `card[number]…` or `card[token]`."""
    token = get_str(card, "token")
    if token is not None:
        name = test_card_for_token(state.store.resolve(token))
        if name is None:
            raise invalid_request(f"No such token: '{token}'", param="card[token]", code="resource_missing")
        return name, TEST_CARDS[name], 12, _today(state).year + 3
    number = (get_str(card, "number") or "").replace(" ", "")
    if not number:
        raise missing_param("card[number]")
    if not number.isdigit() or not 12 <= len(number) <= 19 or not _luhn(number):
        raise card_error("Your card number is incorrect.", "incorrect_number", "number")
    month = get_int(card, "exp_month")
    year = get_int(card, "exp_year")
    if month is None:
        raise missing_param("card[exp_month]")
    if year is None:
        raise missing_param("card[exp_year]")
    if not 1 <= month <= 12:
        raise card_error("Your card's expiration month is invalid.", "invalid_expiry_month", "exp_month")
    year = year + 2000 if year < 100 else year
    today = _today(state)
    if year < today.year or year > today.year + 50:
        raise card_error("Your card's expiration year is invalid.", "invalid_expiry_year", "exp_year")
    if (year, month) < (today.year, today.month):
        raise card_error("Your card's expiration month is invalid.", "invalid_expiry_month", "exp_month")
    name = TEST_NUMBERS.get(number)
    if name is None:
        raise card_error(
            "Your card was declined. Your request was in test mode, but used a non test (live) card. For a "
            "list of valid test cards, visit: https://stripe.com/docs/testing.",
            "card_declined",
            "number",
        )
    return name, TEST_CARDS[name], month, year


def _billing_details(current: JSON, raw: JSON | None) -> JSON:
    details = dict(current)
    for name in ("email", "name", "phone", "tax_id"):
        if raw is not None and name in raw:
            details[name] = get_str(raw, name)
    if raw is not None and "address" in raw:
        details["address"] = objects.address(get_hash(raw, "address") or {})
    return details


def create_card(state: SandboxState, params: JSON, param_prefix: str = "") -> JSON:
    """A card PaymentMethod from `type`, `card`, `billing_details`, `metadata` (or `payment_method_data`)."""
    kind = get_str(params, "type")
    if kind is None:
        raise missing_param(f"{param_prefix}type")
    if kind != "card":
        raise invalid_request(
            f"The payment method type provided: {kind} is invalid. The sandbox serves card payment methods "
            "only.",
            param=f"{param_prefix}type",
            code="payment_method_invalid_parameter",
        )
    card = get_hash(params, "card")
    if card is None:
        raise missing_param(f"{param_prefix}card")
    name, test_card, month, year = _card_from_details(state, card)
    pm = objects.payment_method(state.store.new_id("pm"), state.now(), test_card, state.store.token(16))
    pm["card"].update(exp_month=month, exp_year=year)
    pm["billing_details"] = _billing_details(pm["billing_details"], get_hash(params, "billing_details"))
    pm["metadata"] = apply_metadata({}, params)
    pm["allow_redisplay"] = get_enum(params, "allow_redisplay", _ALLOW_REDISPLAY, "unspecified")
    state.card_behaviour[pm["id"]] = name
    return state.store.add(pm)


def create(state: SandboxState, call: Call) -> JSON:
    """POST /v1/payment_methods."""
    check_known(call.params, ("type", "card", "billing_details", "metadata", "allow_redisplay", "customer"))
    pm = create_card(state, call.params)
    customer_id = get_str(call.params, "customer")
    if customer_id is not None:
        _attach(state, pm, customer_id, call.request)
    return snapshot(pm)


def retrieve(state: SandboxState, call: Call) -> JSON:
    """GET /v1/payment_methods/{id}."""
    check_known(call.params, ())
    return snapshot(state.store.get("payment_method", call.path_params["id"]))


def update(state: SandboxState, call: Call) -> JSON:
    """POST /v1/payment_methods/{id}: billing details, metadata, card expiry (attached methods only)."""
    check_known(call.params, ("billing_details", "card", "metadata", "allow_redisplay"))
    pm = state.store.get("payment_method", call.path_params["id"])
    if pm["customer"] is None:
        raise invalid_request(
            "You must save this PaymentMethod to a customer before you can update it.",
            code="payment_method_unexpected_state",
        )
    before = snapshot(pm)
    card = get_hash(call.params, "card")
    if card is not None:
        check_known(card, ("exp_month", "exp_year", "networks"))
        for name in ("exp_month", "exp_year"):
            value = get_int(card, name)
            if value is not None:
                pm["card"][name] = value
    pm["billing_details"] = _billing_details(pm["billing_details"], get_hash(call.params, "billing_details"))
    pm["metadata"] = apply_metadata(pm["metadata"], call.params)
    if "allow_redisplay" in call.params:
        pm["allow_redisplay"] = get_enum(call.params, "allow_redisplay", _ALLOW_REDISPLAY)
    previous = {k: before[k] for k in pm if before.get(k) != pm[k]}
    if previous:
        state.emit("payment_method.updated", pm, call.request, previous)
    return snapshot(pm)


def _attach(state: SandboxState, pm: JSON, customer_id: str, req: RequestRef) -> None:
    customer = state.store.get("customer", customer_id, param="customer")
    if pm["customer"] is not None:
        if pm["customer"] == customer["id"]:
            return
        raise invalid_request(
            "The payment method you provided has already been attached to a customer.",
            code="payment_method_unexpected_state",
        )
    pm["customer"] = customer["id"]
    state.emit("payment_method.attached", pm, req)


def attach(state: SandboxState, call: Call) -> JSON:
    """POST /v1/payment_methods/{id}/attach."""
    check_known(call.params, ("customer",))
    pm = state.store.get("payment_method", call.path_params["id"])
    customer_id = get_str(call.params, "customer")
    if customer_id is None:
        raise missing_param("customer")
    _attach(state, pm, customer_id, call.request)
    return snapshot(pm)


def detach(state: SandboxState, call: Call) -> JSON:
    """POST /v1/payment_methods/{id}/detach."""
    check_known(call.params, ())
    pm = state.store.get("payment_method", call.path_params["id"])
    if pm["customer"] is None:
        raise invalid_request(
            "The payment method you provided is not attached to a customer so detachment is impossible.",
            code="payment_method_unexpected_state",
        )
    previous = {"customer": pm["customer"]}
    pm["customer"] = None
    for customer in state.store.all("customer"):
        if customer["invoice_settings"]["default_payment_method"] == pm["id"]:
            customer["invoice_settings"]["default_payment_method"] = None
    state.emit("payment_method.detached", pm, call.request, previous)
    return snapshot(pm)


def _matching(state: SandboxState, call: Call, customer: str | None, url: str) -> JSON:
    kind = get_str(call.params, "type")
    items = [
        snapshot(pm)
        for pm in state.store.all("payment_method")
        if (customer is None or pm["customer"] == customer) and (kind is None or pm["type"] == kind)
    ]
    return paginate(items, call.params, url, "payment_method")


def list_(state: SandboxState, call: Call) -> JSON:
    """GET /v1/payment_methods (`customer`, `type`)."""
    check_known(call.params, ("customer", "type", "allow_redisplay", *PAGING_PARAMS))
    customer = get_str(call.params, "customer")
    if customer is not None:
        customer = state.store.get("customer", customer, param="customer")["id"]
    return _matching(state, call, customer, "/v1/payment_methods")


def list_for_customer(state: SandboxState, call: Call) -> JSON:
    """GET /v1/customers/{id}/payment_methods (`type`)."""
    check_known(call.params, ("type", "allow_redisplay", *PAGING_PARAMS))
    customer = state.store.get("customer", call.path_params["id"])["id"]
    return _matching(state, call, customer, f"/v1/customers/{customer}/payment_methods")


def retrieve_for_customer(state: SandboxState, call: Call) -> JSON:
    """GET /v1/customers/{id}/payment_methods/{pm}."""
    check_known(call.params, ())
    customer = state.store.get("customer", call.path_params["id"])
    pm = state.store.get("payment_method", call.path_params["pm"])
    if pm["customer"] != customer["id"]:
        raise invalid_request(
            f"No such PaymentMethod: '{call.path_params['pm']}'", code="resource_missing", status=404
        )
    return snapshot(pm)


ROUTES = [
    ("POST", "/v1/payment_methods", create),
    ("GET", "/v1/payment_methods", list_),
    ("GET", "/v1/payment_methods/{id}", retrieve),
    ("POST", "/v1/payment_methods/{id}", update),
    ("POST", "/v1/payment_methods/{id}/attach", attach),
    ("POST", "/v1/payment_methods/{id}/detach", detach),
    ("GET", "/v1/customers/{id}/payment_methods", list_for_customer),
    ("GET", "/v1/customers/{id}/payment_methods/{pm}", retrieve_for_customer),
]
