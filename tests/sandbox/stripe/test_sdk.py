# mypy: disable-error-code="union-attr,arg-type,typeddict-item,typeddict-unknown-key,call-overload"
# (stripe-python types most response fields as Optional unions; the tests assert on the actual values.)
"""The official `stripe` SDK, pointed at the sandbox, works unchanged."""

from __future__ import annotations

import time

import pytest
import stripe

from tests.sandbox.stripe.conftest import RunningSandbox


def _pay(client: stripe.StripeClient, amount: int, **extra: object) -> stripe.PaymentIntent:
    params = {"amount": amount, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True, **extra}
    return client.v1.payment_intents.create(params=params)


def test_customers_crud_and_metadata_rules(client: stripe.StripeClient) -> None:
    created = client.v1.customers.create(
        params={
            "name": "Acme Builders",
            "email": "ap@acme.test",
            "metadata": {"app_id": "42", "tier": "gold"},
        }
    )
    assert created.id.startswith("cus_")
    assert created.object == "customer"
    assert created.metadata.to_dict() == {"app_id": "42", "tier": "gold"}
    assert created.livemode is False
    assert isinstance(created.created, int)

    updated = client.v1.customers.update(
        created.id, params={"metadata": {"tier": "", "region": "west"}, "phone": "+15550100"}
    )
    assert updated.metadata.to_dict() == {"app_id": "42", "region": "west"}  # "" removes a key, others merge
    assert updated.phone == "+15550100"
    assert client.v1.customers.retrieve(created.id).name == "Acme Builders"

    found = client.v1.customers.list(params={"email": "ap@acme.test"})
    assert [c.id for c in found.data] == [created.id]

    deleted = client.v1.customers.delete(created.id)
    assert deleted.deleted is True
    assert client.v1.customers.retrieve(created.id).to_dict().get("deleted") is True
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.update(created.id, params={"name": "x"})
    assert info.value.http_status == 404
    assert info.value.code == "resource_missing"


def test_auto_paging_iter_walks_every_page_newest_first(client: stripe.StripeClient) -> None:
    ids = [client.v1.customers.create(params={"name": f"c{i}"}).id for i in range(23)]
    page = client.v1.customers.list(params={"limit": 5})
    assert page.has_more is True
    assert page.url == "/v1/customers"
    walked = [c.id for c in page.auto_paging_iter()]
    assert walked == list(reversed(ids))
    backwards = client.v1.customers.list(params={"limit": 4, "ending_before": ids[3]})
    assert [c.id for c in backwards.data] == list(reversed(ids[4:8]))
    assert [c.id for c in backwards.auto_paging_iter()] == ids[4:]


def test_payment_intent_idempotent_create_then_confirm_with_expand(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "Acme"})
    params = {
        "amount": 123456,
        "currency": "usd",
        "customer": customer.id,
        "metadata": {"invoice_id": "inv-7", "company_id": "3"},
        "payment_method_types": ["card"],
    }
    first = client.v1.payment_intents.create(params=params, options={"idempotency_key": "inv-7:123456"})
    again = client.v1.payment_intents.create(params=params, options={"idempotency_key": "inv-7:123456"})
    assert again.id == first.id
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert first.status == "requires_payment_method"
    assert first.client_secret.startswith(f"{first.id}_secret_")
    assert first.latest_charge is None

    with pytest.raises(stripe.IdempotencyError) as info:
        client.v1.payment_intents.create(
            params={**params, "amount": 99999},
            options={"idempotency_key": "inv-7:123456"},
        )
    assert "inv-7:123456" in str(info.value.user_message)
    assert info.value.http_status == 400

    confirmed = client.v1.payment_intents.confirm(first.id, params={"payment_method": "pm_card_visa"})
    assert confirmed.status == "succeeded"
    assert confirmed.amount_received == 123456
    assert confirmed.payment_method.startswith("pm_") and confirmed.payment_method != "pm_card_visa"
    assert confirmed.latest_charge.startswith("ch_")

    expanded = client.v1.payment_intents.retrieve(
        first.id, params={"expand": ["latest_charge.balance_transaction", "customer"]}
    )
    charge = expanded.latest_charge
    txn = charge.balance_transaction
    assert isinstance(charge, stripe.Charge) and isinstance(txn, stripe.BalanceTransaction)
    assert expanded.customer.id == customer.id
    fee = round(123456 * 0.029) + 30  # 3580.22 -> 3580, + 30
    assert (txn.amount, txn.fee, txn.net) == (123456, fee, 123456 - fee)
    assert txn.fee_details[0].type == "stripe_fee" and txn.fee_details[0].amount == fee
    assert txn.source == charge.id
    assert charge.metadata.to_dict() == {"invoice_id": "inv-7", "company_id": "3"}
    assert charge.payment_method_details.card.last4 == "4242"

    with pytest.raises(stripe.InvalidRequestError) as again_confirm:
        client.v1.payment_intents.confirm(first.id)
    assert again_confirm.value.code == "payment_intent_unexpected_state"


def test_confirm_true_on_create_with_automatic_payment_methods(client: stripe.StripeClient) -> None:
    intent = _pay(client, 5000, automatic_payment_methods={"enabled": True})
    assert intent.status == "succeeded"
    assert intent.automatic_payment_methods.enabled is True
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.payment_intent == intent.id and charge.paid and charge.captured
    listed = client.v1.charges.list(params={"payment_intent": intent.id})
    assert [c.id for c in listed.data] == [charge.id]


def test_declined_card_raises_card_error_and_resets_the_intent(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 2500, "currency": "usd"})
    with pytest.raises(stripe.CardError) as info:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_chargeDeclined"})
    error = info.value
    assert error.http_status == 402
    assert error.code == "card_declined"
    assert error.error.decline_code == "generic_decline"
    assert error.error.doc_url == "https://stripe.com/docs/error-codes/card-declined"
    assert error.request_id and error.request_id.startswith("req_")
    after = client.v1.payment_intents.retrieve(intent.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.code == "card_declined"
    assert after.last_payment_error.type == "card_error"
    failed = client.v1.charges.retrieve(after.latest_charge)
    assert (failed.status, failed.paid, failed.balance_transaction) == ("failed", False, None)
    assert failed.failure_code == "card_declined"
    # A new payment method can still pay the same intent.
    retried = client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert retried.status == "succeeded" and retried.last_payment_error is None


def test_insufficient_funds_decline_code(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.CardError) as info:
        _pay(client, 2500, payment_method="pm_card_chargeDeclinedInsufficientFunds")
    assert info.value.error.decline_code == "insufficient_funds"


def test_authentication_required_then_completed(client: stripe.StripeClient, sandbox: RunningSandbox) -> None:
    intent = _pay(client, 7500, payment_method="pm_card_authenticationRequired")
    assert intent.status == "requires_action"
    assert intent.next_action.type == "use_stripe_sdk"
    assert intent.latest_charge is None
    done = sandbox.admin("POST", f"payment_intents/{intent.id}/authenticate", {"success": True})
    assert done["status"] == "succeeded"
    assert client.v1.payment_intents.retrieve(intent.id).latest_charge.startswith("ch_")


def test_cancel_and_list(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "Acme"})
    open_intent = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "customer": customer.id}
    )
    canceled = client.v1.payment_intents.cancel(open_intent.id, params={"cancellation_reason": "abandoned"})
    assert canceled.status == "canceled" and isinstance(canceled.canceled_at, int)
    paid = _pay(client, 1000, customer=customer.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.cancel(paid.id)
    mine = client.v1.payment_intents.list(params={"customer": customer.id})
    assert [pi.id for pi in mine.data] == [paid.id, open_intent.id]


def test_refunds_partial_then_full(client: stripe.StripeClient) -> None:
    intent = _pay(client, 10000)
    partial = client.v1.refunds.create(
        params={"payment_intent": intent.id, "amount": 2500, "reason": "duplicate"}
    )
    assert partial.status == "succeeded" and partial.charge == intent.latest_charge
    txn = client.v1.balance_transactions.retrieve(partial.balance_transaction)
    assert (txn.amount, txn.fee, txn.net, txn.type, txn.source) == (-2500, 0, -2500, "refund", partial.id)

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create(params={"charge": intent.latest_charge, "amount": 9000})
    assert too_much.value.code == "amount_too_large"

    rest = client.v1.refunds.create(params={"charge": intent.latest_charge})
    assert rest.amount == 7500
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.amount_refunded == 10000 and charge.refunded is True
    assert {r.id for r in charge.refunds.data} == {partial.id, rest.id}
    listed = client.v1.refunds.list(params={"charge": charge.id})
    assert [r.id for r in listed.data] == [rest.id, partial.id]
    assert client.v1.refunds.retrieve(rest.id).amount == 7500

    events = client.v1.events.list(params={"type": "charge.refunded"})
    assert len(events.data) == 2
    latest = events.data[0]
    assert latest.data.object.amount_refunded == 10000
    assert latest.data.previous_attributes.amount_refunded == 2500


def test_balance_transactions_and_payouts(client: stripe.StripeClient, sandbox: RunningSandbox) -> None:
    first, second = _pay(client, 20000), _pay(client, 5000)
    charges = client.v1.balance_transactions.list(params={"type": "charge"})
    assert len(charges.data) == 2 and all(t.status == "pending" for t in charges.data)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payouts.create(params={"amount": 1000, "currency": "usd"})
    assert info.value.code == "balance_insufficient"

    payout = sandbox.admin("POST", "payouts", {})
    net = (20000 - 610) + (5000 - 175)
    assert payout["amount"] == net and payout["status"] == "in_transit" and payout["automatic"] is True
    included = client.v1.balance_transactions.list(params={"payout": payout["id"]})
    sources = {t.source for t in included.auto_paging_iter()}
    charge_ids = {first.latest_charge, second.latest_charge}
    assert charge_ids <= sources and payout["id"] in sources
    assert client.v1.payouts.list().data[0].id == payout["id"]

    sandbox.admin("POST", "clock", {"advance_days": 3})
    assert client.v1.payouts.retrieve(payout["id"]).status == "paid"
    paid_events = client.v1.events.list(params={"types": ["payout.paid", "payout.created"]})
    assert [e.type for e in paid_events.data] == ["payout.paid", "payout.created"]
    balance = client.v1.balance.retrieve()
    assert balance.available[0].amount == 0


def test_events_list_filters_and_paging(client: stripe.StripeClient) -> None:
    start = int(time.time()) - 1
    for _ in range(4):
        _pay(client, 1500)
    succeeded = client.v1.events.list(params={"type": "payment_intent.succeeded", "created": {"gte": start}})
    assert len(succeeded.data) == 4
    assert all(e.data.object.object == "payment_intent" for e in succeeded.data)
    assert all(e.request.id.startswith("req_") for e in succeeded.data)
    wildcard = client.v1.events.list(params={"type": "charge.*", "limit": 100})
    assert {e.type for e in wildcard.data} == {"charge.succeeded"}
    everything = list(client.v1.events.list(params={"limit": 3}).auto_paging_iter())
    assert len(everything) == 12  # created + charge.succeeded + succeeded, four times
    assert client.v1.events.retrieve(everything[0].id).id == everything[0].id
    assert client.v1.events.list(params={"created": {"lt": start}}).data == []


def test_sdk_error_types(client: stripe.StripeClient, sandbox: RunningSandbox) -> None:
    bad = stripe.StripeClient("sk_live_not_allowed_here", base_addresses={"api": sandbox.url})
    with pytest.raises(stripe.AuthenticationError) as auth:
        bad.v1.customers.list()
    assert auth.value.http_status == 401
    assert "sk_live_not_allowed_here" not in str(auth.value)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.retrieve("pi_doesnotexist")
    assert (missing.value.http_status, missing.value.code, missing.value.param) == (
        404,
        "resource_missing",
        "id",
    )
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "invoice": "in_1"})
    assert unknown.value.code == "parameter_unknown" and unknown.value.param == "invoice"
    with pytest.raises(stripe.InvalidRequestError) as small:
        client.v1.payment_intents.create(params={"amount": 10, "currency": "usd"})
    assert small.value.code == "amount_too_small"
    with pytest.raises(stripe.InvalidRequestError) as no_customer:
        client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "customer": "cus_nope"})
    assert (no_customer.value.http_status, no_customer.value.param) == (400, "customer")
