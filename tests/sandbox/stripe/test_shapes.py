"""Objects and errors over raw HTTP have the shapes of Stripe's fixtures (same keys, same JSON types)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import fixtures
from tests.sandbox.stripe.conftest import RunningSandbox

FIXTURES = fixtures.STRIPE
FREE_FORM = {"metadata"}  # keys chosen by the API user, not by Stripe


def fixture(name: str) -> Any:
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    return data["object"] if isinstance(data, dict) else data


def assert_same_shape(actual: Any, expected: Any, path: str = "$") -> None:
    """Same keys at every level and the same JSON type wherever both sides have a value (null is 'unset')."""
    if actual is None or expected is None:
        return
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        if path.rsplit(".", 1)[-1] in FREE_FORM:
            return
        missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
        assert not missing and not extra, f"{path}: missing {missing}, extra {extra}"
        for key in expected:
            assert_same_shape(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        if actual and expected:
            assert_same_shape(actual[0], expected[0], f"{path}[0]")
    else:
        assert type(actual) is type(expected), f"{path}: {actual!r} is not like {expected!r}"


def form(sandbox: RunningSandbox, path: str, body: str, **headers: str) -> Any:
    response = sandbox.api(
        "POST", path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded", **headers}
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def paid(sandbox: RunningSandbox) -> dict[str, Any]:
    """A customer, a paid intent, a partial refund and a payout, made with hand-written form bodies."""
    customer = form(sandbox, "/v1/customers", "name=Acme&metadata[app_id]=5")
    intent = form(
        sandbox,
        "/v1/payment_intents",
        f"amount=1099&currency=usd&customer={customer['id']}&payment_method_types[]=card"
        "&payment_method=pm_card_visa&confirm=true&metadata[invoice_id]=77&expand[]=latest_charge",
    )
    refund = form(sandbox, "/v1/refunds", f"charge={intent['latest_charge']['id']}&amount=100")
    payout = sandbox.admin("POST", "payouts", {})
    return {"customer": customer, "intent": intent, "refund": refund, "payout": payout}


def get(sandbox: RunningSandbox, path: str) -> Any:
    response = sandbox.api("GET", path)
    assert response.status_code == 200, response.text
    return response.json()


def test_customer_shape(sandbox: RunningSandbox, paid: dict[str, Any]) -> None:
    customer = get(sandbox, f"/v1/customers/{paid['customer']['id']}")
    assert_same_shape(customer, fixture("customer"))
    assert customer["metadata"] == {"app_id": "5"}
    assert customer["discount"] is None and customer["address"] is None


def test_fresh_payment_intent_shape(sandbox: RunningSandbox) -> None:
    intent = form(
        sandbox, "/v1/payment_intents", "amount=1099&currency=usd&automatic_payment_methods[enabled]=true"
    )
    assert_same_shape(intent, fixture("payment_intent"))
    assert intent["status"] == "requires_payment_method"
    assert intent["automatic_payment_methods"] == {"enabled": True}
    assert intent["latest_charge"] is None and intent["metadata"] == {}


def test_paid_objects_shapes(sandbox: RunningSandbox, paid: dict[str, Any]) -> None:
    intent = paid["intent"]
    charge = intent["latest_charge"]
    assert_same_shape({**intent, "latest_charge": charge["id"]}, fixture("payment_intent"))
    assert intent["metadata"] == {"invoice_id": "77"}
    assert_same_shape(get(sandbox, f"/v1/charges/{charge['id']}"), fixture("charge"))
    assert charge["balance_transaction"].startswith("txn_")
    assert_same_shape(paid["refund"], fixture("refund"))
    assert "livemode" not in paid["refund"]
    assert_same_shape(paid["payout"], fixture("payout"))
    pm = get(sandbox, f"/v1/payment_methods/{intent['payment_method']}")
    assert_same_shape(pm, fixture("payment_method"))


def test_balance_transaction_shape_and_fee_details(sandbox: RunningSandbox, paid: dict[str, Any]) -> None:
    txn = get(sandbox, f"/v1/balance_transactions/{paid['intent']['latest_charge']['balance_transaction']}")
    assert_same_shape(txn, fixture("balance_transaction"))
    assert (txn["amount"], txn["fee"], txn["net"]) == (1099, 62, 1037)  # 2.9 % of 1099 = 31.87 -> 32, + 30
    assert txn["fee_details"] == [
        {"amount": 62, "application": None, "currency": "usd", "description": "Stripe processing fees",
         "type": "stripe_fee"}
    ]  # fmt: skip
    assert isinstance(txn["available_on"], int) and txn["available_on"] >= txn["created"]
    assert txn["status"] == "available"  # the forced payout made it available


def test_event_and_list_shapes(sandbox: RunningSandbox, paid: dict[str, Any]) -> None:
    events = get(sandbox, "/v1/events?limit=100")
    assert_same_shape({**events, "data": []}, fixture("list"))
    assert events["url"] == "/v1/events"
    expected = fixture("event")
    for event in events["data"]:
        assert_same_shape({**event, "data": None}, {**expected, "data": None})
        assert set(event["data"]) <= {"object", "previous_attributes"}
        assert event["id"].startswith("evt_") and event["api_version"]
    types = [e["type"] for e in events["data"]]
    assert "customer.created" in types and "charge.refunded" in types and "payout.created" in types
    refunds = get(sandbox, f"/v1/charges/{paid['intent']['latest_charge']['id']}")["refunds"]
    assert_same_shape(refunds, fixture("list"))
    assert refunds["url"].endswith("/refunds") and refunds["url"].startswith("/v1/charges/ch_")


def errors_by_status() -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    for entry in fixture("errors"):
        found.setdefault(entry["status"], []).append(entry["body"]["error"])
    return found


def test_error_bodies_match_stripe(sandbox: RunningSandbox) -> None:
    stripe_errors = errors_by_status()

    missing_key = sandbox.api("GET", "/v1/customers", headers={"Authorization": ""})
    assert missing_key.status_code == 401
    assert set(missing_key.json()["error"]) == set(stripe_errors[401][0])
    assert missing_key.json()["error"]["message"].startswith("You did not provide an API key.")
    assert missing_key.headers["Request-Id"].startswith("req_")

    not_found = sandbox.api("GET", "/v1/payment_intents/pi_1FEUYJJrZPYjysG3wkdSqF0B")
    assert not_found.status_code == 404
    body = not_found.json()["error"]
    assert set(body) == set(stripe_errors[404][0])
    assert body["doc_url"] == "https://stripe.com/docs/error-codes/resource-missing"

    intent = form(sandbox, "/v1/payment_intents", "amount=5000&currency=usd")
    declined = sandbox.api(
        "POST",
        f"/v1/payment_intents/{intent['id']}/confirm",
        data={"payment_method": "pm_card_chargeDeclined"},
    )
    assert declined.status_code == 402
    card_error = declined.json()["error"]
    assert set(stripe_errors[402][0]) - {"param"} <= set(card_error)
    assert card_error["type"] == "card_error" and card_error["charge"].startswith("ch_")
    assert card_error["payment_intent"]["status"] == "requires_payment_method"

    headers = {"Idempotency-Key": "abc"}
    form(sandbox, "/v1/customers", "name=A", **headers)
    reused = sandbox.api("POST", "/v1/customers", data={"name": "B"}, headers=headers)
    assert reused.status_code == 400
    assert reused.json()["error"] == {
        "message": stripe_errors[400][0]["message"],
        "type": "idempotency_error",
    }
