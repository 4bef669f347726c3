# mypy: disable-error-code="union-attr,arg-type,typeddict-item,typeddict-unknown-key,call-overload,index"
"""Payment methods, legacy charges, manual capture, search and the money actions, through the official SDK."""

from __future__ import annotations

import pytest
import stripe

from tests.sandbox.stripe.conftest import RunningSandbox

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "314"}


def _customer(client: stripe.StripeClient, **params: object) -> stripe.Customer:
    return client.v1.customers.create(params={"name": "Acme Builders", **params})


def test_payment_methods_create_attach_list_update_detach(client: stripe.StripeClient) -> None:
    customer = _customer(client)
    pm = client.v1.payment_methods.create(
        params={"type": "card", "card": CARD, "billing_details": {"name": "Ada"}, "metadata": {"k": "v"}}
    )
    assert pm.id.startswith("pm_") and pm.card.last4 == "4242" and pm.card.brand == "visa"
    assert pm.customer is None and pm.billing_details.name == "Ada" and pm.metadata.to_dict() == {"k": "v"}
    with pytest.raises(stripe.InvalidRequestError, match="save this PaymentMethod to a customer"):
        client.v1.payment_methods.update(pm.id, params={"metadata": {"a": "b"}})
    attached = client.v1.payment_methods.attach(pm.id, params={"customer": customer.id})
    assert attached.customer == customer.id
    other = client.v1.payment_methods.create(params={"type": "card", "card": {"token": "tok_mastercard"}})
    listed = client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"})
    assert [p.id for p in listed.data] == [pm.id]
    assert [p.id for p in client.v1.customers.payment_methods.list(customer.id).data] == [pm.id]
    updated = client.v1.payment_methods.update(
        pm.id, params={"card": {"exp_month": 3}, "metadata": {"k": ""}}
    )
    assert updated.card.exp_month == 3 and updated.metadata.to_dict() == {}
    detached = client.v1.payment_methods.detach(pm.id)
    assert detached.customer is None
    with pytest.raises(stripe.InvalidRequestError, match="not attached to a customer"):
        client.v1.payment_methods.detach(pm.id)
    assert client.v1.payment_methods.retrieve(other.id).card.brand == "mastercard"


def test_card_details_are_checked_as_stripe_does(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.CardError) as expired:
        client.v1.payment_methods.create(params={"type": "card", "card": {**CARD, "exp_year": 2020}})
    assert expired.value.code == "invalid_expiry_year" and expired.value.http_status == 402
    with pytest.raises(stripe.CardError) as wrong:
        client.v1.payment_methods.create(
            params={"type": "card", "card": {**CARD, "number": "4242424242424241"}}
        )
    assert wrong.value.code == "incorrect_number"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.payment_methods.create(params={"type": "card", "card": CARD, "colour": "red"})
    assert unknown.value.code == "parameter_unknown" and unknown.value.param == "colour"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_methods.create(params={"card": CARD})
    assert missing.value.code == "parameter_missing" and missing.value.param == "type"


def test_manual_capture_partial_amount_releases_the_rest(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={
            "amount": 5000,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method_data": {"type": "card", "card": CARD},
            "confirm": True,
        }
    )
    assert intent.status == "requires_capture" and intent.amount_capturable == 5000
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.captured is False and charge.balance_transaction is None and charge.amount_captured == 0
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 6000})
    assert too_much.value.code == "amount_too_large"
    captured = client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 4000})
    assert (
        captured.status == "succeeded"
        and captured.amount_received == 4000
        and captured.amount_capturable == 0
    )
    charge = client.v1.charges.retrieve(intent.latest_charge, params={"expand": ["balance_transaction"]})
    assert charge.captured is True and charge.amount_captured == 4000 and charge.amount_refunded == 1000
    assert charge.balance_transaction.amount == 4000 and charge.balance_transaction.fee == 146
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.payment_intents.capture(intent.id)
    assert again.value.code == "payment_intent_unexpected_state"
    types = [e.type for e in client.v1.events.list().data]
    assert types[:2] == ["payment_intent.succeeded", "charge.captured"]
    assert "payment_intent.amount_capturable_updated" in types


def test_incremental_authorization_only_when_asked_for(client: stripe.StripeClient) -> None:
    params = {"amount": 2000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
              "capture_method": "manual"}  # fmt: skip
    plain = client.v1.payment_intents.create(params=params)
    with pytest.raises(stripe.InvalidRequestError, match="not eligible for incremental authorization"):
        client.v1.payment_intents.increment_authorization(plain.id, params={"amount": 2500})
    options = {"card": {"request_incremental_authorization": "if_available"}}
    intent = client.v1.payment_intents.create(params={**params, "payment_method_options": options})
    raised = client.v1.payment_intents.increment_authorization(intent.id, params={"amount": 2500})
    assert raised.amount == 2500 and raised.amount_capturable == 2500
    with pytest.raises(stripe.InvalidRequestError, match="greater than the current amount"):
        client.v1.payment_intents.increment_authorization(intent.id, params={"amount": 2400})
    assert client.v1.payment_intents.capture(intent.id).amount_received == 2500


def test_legacy_charges_create_capture_update_and_decline(client: stripe.StripeClient) -> None:
    customer = _customer(client)
    held = client.v1.charges.create(
        params={
            "amount": 3000,
            "currency": "usd",
            "source": "tok_visa",
            "capture": False,
            "customer": customer.id,
        }
    )
    assert held.captured is False and held.payment_intent is None and held.customer == customer.id
    captured = client.v1.charges.capture(held.id, params={"amount": 2500})
    assert captured.captured is True and captured.amount_captured == 2500 and captured.amount_refunded == 500
    with pytest.raises(stripe.InvalidRequestError) as twice:
        client.v1.charges.capture(held.id)
    assert twice.value.code == "charge_already_captured"
    updated = client.v1.charges.update(held.id, params={"description": "Invoice 7", "metadata": {"inv": "7"}})
    assert updated.description == "Invoice 7" and updated.metadata.to_dict() == {"inv": "7"}
    with pytest.raises(stripe.CardError) as declined:
        client.v1.charges.create(params={"amount": 3000, "currency": "usd", "source": "tok_chargeDeclined"})
    failed = client.v1.charges.retrieve(declined.value.error.charge)
    assert failed.status == "failed" and declined.value.code == "card_declined"
    with pytest.raises(stripe.InvalidRequestError) as no_card:
        client.v1.charges.create(params={"amount": 3000, "currency": "usd", "customer": customer.id})
    assert "no active card" in str(no_card.value.user_message)


def test_search_query_language(client: stripe.StripeClient) -> None:
    a = _customer(client, email="ap@acme.test", metadata={"tier": "gold"})
    b = client.v1.customers.create(params={"name": "Beta Roofing", "metadata": {"tier": "silver"}})
    _customer(client, name="Acme West", metadata={"tier": "silver"})
    found = client.v1.customers.search(params={"query": "name:'Acme Builders' AND metadata['tier']:'gold'"})
    raw = found.to_dict()
    assert raw["object"] == "search_result" and [c.id for c in found.data] == [a.id]
    assert raw["url"] == "/v1/customers/search" and raw["next_page"] is None
    either = client.v1.customers.search(params={"query": "email:'ap@acme.test' OR name~'Roof'"})
    assert {c.id for c in either.data} == {a.id, b.id}
    negated = client.v1.customers.search(params={"query": "-metadata['tier']:'silver'"})
    assert [c.id for c in negated.data] == [a.id]
    paged = client.v1.customers.search(params={"query": "name~'Acm'", "limit": 1})
    assert paged.has_more is True and paged.next_page
    walked = [c.id for c in paged.auto_paging_iter()]
    assert len(walked) == 2 and a.id in walked
    for amount in (1000, 5000):
        client.v1.payment_intents.create(params={"amount": amount, "currency": "usd", "metadata": {"o": "1"}})
    big = client.v1.payment_intents.search(
        params={"query": "amount>2000 AND status:'requires_payment_method'"}
    )
    assert [p.amount for p in big.data] == [5000]
    for query, fragment in [
        ("name:'x' AND email:'y' OR phone:'z'", "Combining AND and OR"),
        ("colour:'red'", "unsupported search field"),
        ("name>3", "numbers only"),
        ("name~'ab'", "at least 3 characters"),
        ("name = 'x'", "unable to parse"),
    ]:
        with pytest.raises(stripe.InvalidRequestError, match=fragment):
            client.v1.customers.search(params={"query": query})


def test_refund_update_and_cancel(sandbox: RunningSandbox, client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 4000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )
    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000})
    assert client.v1.refunds.update(refund.id, params={"metadata": {"r": "1"}}).metadata.to_dict() == {
        "r": "1"
    }
    with pytest.raises(stripe.InvalidRequestError, match="Only a refund with a status of requires_action"):
        client.v1.refunds.cancel(refund.id)
    sandbox.admin("POST", f"refunds/{refund.id}/requires_action")
    canceled = client.v1.refunds.cancel(refund.id)
    assert canceled.status == "canceled"
    assert client.v1.charges.retrieve(intent.latest_charge).amount_refunded == 0
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.update(refund.id, params={"amount": 5})


def test_payout_update_cancel_and_reverse(sandbox: RunningSandbox, client: stripe.StripeClient) -> None:
    client.v1.payment_intents.create(
        params={"amount": 10000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )
    sandbox.admin("POST", "clock", {"advance_days": 2})
    first = client.v1.payouts.create(params={"amount": 3000, "currency": "usd"})
    assert client.v1.payouts.update(first.id, params={"metadata": {"b": "1"}}).metadata.to_dict() == {
        "b": "1"
    }
    canceled = client.v1.payouts.cancel(first.id)
    assert canceled.status == "canceled"
    assert client.v1.balance.retrieve().available[0].amount == 9680
    second = client.v1.payouts.create(params={"amount": 2000, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError, match="Only paid payouts"):
        client.v1.payouts.reverse(second.id)
    sandbox.admin("POST", "clock", {"advance_days": 3})
    reversal = client.v1.payouts.reverse(second.id)
    assert reversal.original_payout == second.id and reversal.amount == 2000
    assert client.v1.payouts.retrieve(second.id).reversed_by == reversal.id
    with pytest.raises(stripe.InvalidRequestError, match="pending"):
        client.v1.payouts.cancel(second.id)


def test_dispute_evidence_and_close(client: stripe.StripeClient) -> None:
    client.v1.payment_intents.create(
        params={"amount": 8000, "currency": "usd", "payment_method": "pm_card_createDispute", "confirm": True}
    )
    (dispute,) = client.v1.disputes.list().data
    updated = client.v1.disputes.update(
        dispute.id, params={"evidence": {"customer_name": "Ada", "uncategorized_text": "Delivered"}}
    )
    assert updated.evidence_details.has_evidence is True and updated.status == "needs_response"
    closed = client.v1.disputes.close(dispute.id)
    assert closed.status == "lost"
    with pytest.raises(stripe.InvalidRequestError, match="already closed"):
        client.v1.disputes.close(dispute.id)


def test_unknown_urls_and_webhook_endpoint_update(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    response = sandbox.api("GET", "/v1/xyz")
    assert response.status_code == 404
    message = response.json()["error"]["message"]
    assert message.startswith("Unrecognized request URL (GET: /v1/xyz).")
    assert sandbox.api("POST", "/v2/anything").json()["error"]["type"] == "invalid_request_error"
    created = client.v1.webhook_endpoints.create(
        params={"url": "http://127.0.0.1:9/a", "enabled_events": ["charge.succeeded"]}
    )
    updated = client.v1.webhook_endpoints.update(
        created.id, params={"url": "http://127.0.0.1:9/b", "enabled_events": ["*"], "disabled": True}
    )
    assert (updated.url, updated.enabled_events, updated.status) == (
        "http://127.0.0.1:9/b",
        ["*"],
        "disabled",
    )
    client.v1.customers.create(params={"name": "x"})
    assert sandbox.admin("GET", "webhooks/deliveries")["data"] == []  # a disabled endpoint gets nothing
