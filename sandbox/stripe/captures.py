"""Manual capture: /v1/payment_intents/{id}/capture and /increment_authorization, /v1/charges/{id}/capture.

An intent made with `capture_method=manual` stops in `requires_capture` with an authorized, uncaptured charge.
Capturing all or part of it moves the money (a balance transaction on the captured amount); the rest is
released. An authorization asked for with `payment_method_options[card][request_incremental_authorization]=
if_available` can be raised before capture.
"""

from __future__ import annotations

from sandbox.stripe import ledger
from sandbox.stripe.cards import TEST_CARDS
from sandbox.stripe.errors import invalid_request, unexpected_state
from sandbox.stripe.params import JSON, apply_metadata, check_known, get_int, get_str
from sandbox.stripe.payment_intents import MAX_AMOUNT
from sandbox.stripe.pipeline import Call
from sandbox.stripe.state import RequestRef, SandboxState
from sandbox.stripe.store import snapshot

_DESCRIPTORS = ("statement_descriptor", "statement_descriptor_suffix")


def capture_charge(state: SandboxState, charge: JSON, amount: int | None, req: RequestRef) -> JSON:
    """Capture `amount` (default: all) of an uncaptured charge; emits `charge.captured`."""
    if charge["captured"]:
        raise invalid_request(
            f"Charge {charge['id']} has already been captured.", code="charge_already_captured"
        )
    if charge["status"] != "succeeded":
        raise invalid_request(f"Charge {charge['id']} has not been authorized and cannot be captured.")
    amount = charge["amount"] if amount is None else amount
    if amount > charge["amount"]:
        raise invalid_request(
            f"The amount to capture ({amount}) must be less than or equal to the amount authorized "
            f"({charge['amount']}).",
            param="amount_to_capture",
            code="amount_too_large",
        )
    if amount < 0:
        raise invalid_request("This value must be greater than or equal to 0.", param="amount_to_capture")
    ledger.capture_charge(state, charge, amount)
    state.emit("charge.captured", charge, req)
    if TEST_CARDS[state.card_behaviour.get(charge["payment_method"], "pm_card_visa")].outcome == "dispute":
        ledger.open_dispute(state, charge, req)
    return charge


def capture(state: SandboxState, call: Call) -> JSON:
    """POST /v1/payment_intents/{id}/capture (`amount_to_capture`, `metadata`, descriptors)."""
    check_known(call.params, ("amount_to_capture", "metadata", "final_capture", *_DESCRIPTORS))
    intent = state.store.get("payment_intent", call.path_params["id"])
    if intent["status"] != "requires_capture":
        raise unexpected_state(
            "This PaymentIntent could not be captured because it has a status of "
            f"{intent['status']}. Only a PaymentIntent with one of the following statuses may be captured: "
            "requires_capture."
        )
    amount = get_int(call.params, "amount_to_capture")
    if amount is not None and amount > intent["amount_capturable"]:
        raise invalid_request(
            f"The amount_to_capture ({amount}) must be less than or equal to the amount_capturable "
            f"({intent['amount_capturable']}).",
            param="amount_to_capture",
            code="amount_too_large",
        )
    for name in _DESCRIPTORS:
        if name in call.params:
            intent[name] = get_str(call.params, name)
    intent["metadata"] = apply_metadata(intent["metadata"], call.params)
    charge = state.store.get("charge", intent["latest_charge"])
    _captured(state, intent, capture_charge(state, charge, amount, call.request), call.request)
    return snapshot(intent)


def _captured(state: SandboxState, intent: JSON, charge: JSON, req: RequestRef) -> None:
    intent.update(status="succeeded", amount_capturable=0, amount_received=charge["amount_captured"])
    state.emit("payment_intent.succeeded", intent, req)


def capture_legacy_charge(state: SandboxState, call: Call) -> JSON:
    """POST /v1/charges/{id}/capture (`amount`, `receipt_email`, descriptors)."""
    check_known(call.params, ("amount", "receipt_email", *_DESCRIPTORS))
    charge = state.store.get("charge", call.path_params["id"])
    amount = get_int(call.params, "amount")
    for name in ("receipt_email", *_DESCRIPTORS):
        if name in call.params:
            charge[name] = get_str(call.params, name)
    capture_charge(state, charge, amount, call.request)
    intent = state.store.find(charge["payment_intent"] or "")
    if intent is not None and intent["status"] == "requires_capture":
        _captured(state, intent, charge, call.request)
    return snapshot(charge)


def increment_authorization(state: SandboxState, call: Call) -> JSON:
    """POST /v1/payment_intents/{id}/increment_authorization (`amount`: the new, higher total)."""
    check_known(call.params, ("amount", "description", "metadata", "statement_descriptor"))
    intent = state.store.get("payment_intent", call.path_params["id"])
    amount = get_int(call.params, "amount", required=True)
    assert amount is not None
    if intent["status"] != "requires_capture":
        raise unexpected_state(
            "This PaymentIntent's amount could not be incremented because it has a status of "
            f"{intent['status']}. Only a PaymentIntent with a status of requires_capture may be incremented."
        )
    charge = state.store.get("charge", intent["latest_charge"])
    details = charge["payment_method_details"]["card"]
    if details["incremental_authorization"]["status"] != "available":
        raise invalid_request(
            "This PaymentIntent is not eligible for incremental authorization. Confirm it with "
            "payment_method_options[card][request_incremental_authorization]=if_available first.",
            code="incremental_authorization_unavailable",
        )
    if amount <= intent["amount"] or amount > MAX_AMOUNT:
        raise invalid_request(
            f"The amount ({amount}) must be greater than the current amount ({intent['amount']}).",
            param="amount",
        )
    if "description" in call.params:
        intent["description"] = get_str(call.params, "description")
    intent["metadata"] = apply_metadata(intent["metadata"], call.params)
    intent.update(amount=amount, amount_capturable=amount)
    charge["amount"] = amount
    details["amount_authorized"] = amount
    details["overcapture"]["maximum_amount_capturable"] = amount
    state.emit("payment_intent.amount_capturable_updated", intent, call.request)
    return snapshot(intent)


ROUTES = [
    ("POST", "/v1/payment_intents/{id}/capture", capture),
    ("POST", "/v1/payment_intents/{id}/increment_authorization", increment_authorization),
    ("POST", "/v1/charges/{id}/capture", capture_legacy_charge),
]
