"""The Stripe gateway against the Stripe sandbox over real HTTP (the official SDK underneath)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from connectors.stripe import (
    AmountError,
    CardDeclinedError,
    InvoicePayment,
    RetryPolicy,
    StripeAuthenticationError,
    StripeConfigError,
    StripeGateway,
    StripeInvalidRequestError,
    StripeNotFoundError,
    StripeServerError,
    backfill_start,
    payment_intent_key,
)

KEY = "sk_test_local_gateway_0001"


class Sleeps(list[float]):
    """An injectable sleep that records instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def gateway(stripe_sandbox, sleeps) -> StripeGateway:
    return StripeGateway(KEY, base_url=stripe_sandbox.url, retry=RetryPolicy(sleep=sleeps))


def _invoice(balance: str, **kw) -> InvoicePayment:
    return InvoicePayment(
        invoice_id=kw.pop("invoice_id", uuid.uuid4()),
        company_id=kw.pop("company_id", uuid.uuid4()),
        balance=Decimal(balance),
        **kw,
    )


def _intents(sandbox):
    return sandbox.admin("GET", "objects/payment_intent")["data"]


def test_intent_for_an_invoice_has_exact_cents_and_metadata(gateway, stripe_sandbox):
    payment = _invoice("1234.56", currency="USD", invoice_number="INV-1001")
    intent = gateway.create_invoice_payment_intent(payment)
    assert (intent.amount, intent.currency, intent.status) == (
        Decimal("1234.56"),
        "usd",
        "requires_payment_method",
    )
    assert intent.invoice_id == str(payment.invoice_id) and intent.company_id == str(payment.company_id)
    [stored] = _intents(stripe_sandbox)
    assert stored["amount"] == 123456 and stored["currency"] == "usd"
    assert stored["metadata"] == {
        "invoice_id": str(payment.invoice_id),
        "company_id": str(payment.company_id),
        "invoice_number": "INV-1001",
    }
    assert stored["description"] == "Invoice INV-1001"
    assert intent.client_secret and intent.client_secret not in repr(intent)


def test_same_balance_reuses_the_intent_and_a_changed_balance_gets_a_new_one(gateway, stripe_sandbox):
    invoice_id, company_id = uuid.uuid4(), uuid.uuid4()
    ids = {"invoice_id": invoice_id, "company_id": company_id}
    first = gateway.create_invoice_payment_intent(_invoice("500.00", **ids))
    again = gateway.create_invoice_payment_intent(_invoice("500.00", **ids))
    assert again.id == first.id and again.replayed and not first.replayed
    assert first.idempotency_key == payment_intent_key(invoice_id, Decimal("500.00"), "usd")
    partial = gateway.create_invoice_payment_intent(_invoice("200.00", **ids))
    assert partial.id != first.id and partial.amount == Decimal("200.00")
    fresh = gateway.create_invoice_payment_intent(_invoice("500.00", **ids, generation=1))
    assert fresh.id not in (first.id, partial.id)
    assert len(_intents(stripe_sandbox)) == 3


def test_bad_amount_is_refused_before_any_request(gateway, stripe_sandbox):
    with pytest.raises(AmountError, match="more decimals"):
        gateway.create_invoice_payment_intent(_invoice("10.005"))
    assert stripe_sandbox.admin("GET", "stats")["requests_total"] == 0


def test_confirm_succeeds_and_fees_are_exact(gateway):
    intent = gateway.create_invoice_payment_intent(_invoice("1234.56"))
    assert gateway.payment_fees(intent.id) is None  # nothing paid yet
    paid = gateway.confirm_payment_intent(intent.id, "pm_card_visa")
    assert paid.status == "succeeded" and paid.amount_received == Decimal("1234.56")
    assert paid.latest_charge_id and paid.latest_charge_id.startswith("ch_")
    fees = gateway.payment_fees(intent.id)
    assert fees is not None
    fee = (Decimal("1234.56") * Decimal("0.029")).quantize(Decimal("0.01")) + Decimal("0.30")
    assert (fees.amount, fees.fee, fees.net) == (Decimal("1234.56"), fee, Decimal("1234.56") - fee)
    assert fee == Decimal("36.10")
    assert [(d.type, d.amount) for d in fees.fee_details] == [("stripe_fee", fee)]
    assert fees.source_id == paid.latest_charge_id and fees.type == "charge"
    assert fees.available_on and fees.created and fees.available_on > fees.created
    assert gateway.balance_transaction(fees.id) == fees.__class__(
        **{**fees.__dict__, "payment_intent_id": None}
    )


def test_a_decline_is_not_retried_and_carries_the_decline_code(gateway, sleeps):
    intent = gateway.create_invoice_payment_intent(_invoice("25.00"))
    with pytest.raises(CardDeclinedError) as info:
        gateway.confirm_payment_intent(intent.id, "pm_card_chargeDeclinedInsufficientFunds")
    err = info.value
    assert err.retryable is False and sleeps == []
    assert (err.code, err.decline_code, err.status) == ("card_declined", "insufficient_funds", 402)
    assert err.payment_intent_id == intent.id and err.charge_id and err.charge_id.startswith("ch_")
    assert "another payment method" in err.message
    after = gateway.retrieve_payment_intent(intent.id)
    assert (after.status, after.last_decline_code) == ("requires_payment_method", "insufficient_funds")


def test_a_dropped_response_is_retried_with_the_same_key_and_leaves_one_intent(
    gateway, stripe_sandbox, sleeps
):
    stripe_sandbox.admin("POST", "faults", {"drop_rate": 1.0, "drop_mode": "reset"})
    intent = gateway.create_invoice_payment_intent(_invoice("99.99"))
    stripe_sandbox.admin("POST", "faults", {"drop_rate": 0.0})
    assert intent.replayed  # the second attempt got Stripe's saved answer
    assert len(sleeps) == 1 and 1.0 <= sleeps[0] <= 1.5
    assert [pi["id"] for pi in _intents(stripe_sandbox)] == [intent.id]
    assert stripe_sandbox.admin("GET", "stats")["requests_by_endpoint"]["POST /v1/payment_intents"] == 2


def test_server_errors_back_off_1_2_4_then_give_up_retryable(gateway, stripe_sandbox, sleeps):
    stripe_sandbox.admin("POST", "faults", {"error_rate": 1.0})
    with pytest.raises(StripeServerError) as info:
        gateway.create_invoice_payment_intent(_invoice("10.00"))
    assert info.value.retryable and info.value.status in (500, 503)
    assert [int(s) for s in sleeps] == [1, 2, 4]
    assert all(0 <= s - b <= 0.5 for s, b in zip(sleeps, (1, 2, 4), strict=True))
    assert _intents(stripe_sandbox) == []


def test_throttling_is_retried(gateway, stripe_sandbox, sleeps):
    stripe_sandbox.admin("POST", "faults", {"throttle": 2})
    intent = gateway.create_invoice_payment_intent(_invoice("10.00"))
    assert intent.id.startswith("pi_") and len(sleeps) == 2


def test_refunds_partial_full_and_idempotent(gateway, stripe_sandbox):
    intent = gateway.create_invoice_payment_intent(_invoice("100.00"))
    gateway.confirm_payment_intent(intent.id, "pm_card_visa")
    part = gateway.refund(refund_ref="credit-1", payment_intent_id=intent.id, amount=Decimal("25.50"))
    again = gateway.refund(refund_ref="credit-1", payment_intent_id=intent.id, amount=Decimal("25.50"))
    assert again.id == part.id and again.replayed
    assert (part.amount, part.status, part.refund_ref) == (Decimal("25.50"), "succeeded", "credit-1")
    with pytest.raises(StripeInvalidRequestError) as too_much:
        gateway.refund(refund_ref="credit-2", payment_intent_id=intent.id, amount=Decimal("80.00"))
    assert too_much.value.code == "amount_too_large" and not too_much.value.retryable
    rest = gateway.refund(refund_ref="credit-3", charge_id=part.charge_id, reason="requested_by_customer")
    assert rest.amount == Decimal("74.50") and rest.reason == "requested_by_customer"
    assert len(stripe_sandbox.admin("GET", "objects/refund")["data"]) == 2
    txn = gateway.balance_transaction(str(part.balance_transaction_id))
    assert (txn.type, txn.amount, txn.fee, txn.net) == (
        "refund",
        Decimal("-25.50"),
        Decimal("0.00"),
        Decimal("-25.50"),
    )
    with pytest.raises(ValueError, match="exactly one"):
        gateway.refund(refund_ref="x", payment_intent_id=intent.id, charge_id=part.charge_id)


def test_backfill_lists_events_since_a_time_across_pages(gateway):
    start = datetime.now(UTC) - timedelta(seconds=2)
    paid = []
    for balance in ("10.00", "20.00", "30.00"):
        intent = gateway.create_invoice_payment_intent(_invoice(balance))
        paid.append(gateway.confirm_payment_intent(intent.id, "pm_card_visa").id)
    events = list(gateway.list_events(start, types=["payment_intent.succeeded"], page_size=2))
    assert sorted(e.data_object["id"] for e in events) == sorted(paid)
    assert all(
        e.type == "payment_intent.succeeded" and e.created >= start - timedelta(seconds=1) for e in events
    )
    everything = list(gateway.list_events(start, page_size=2))
    assert len(everything) == 9 and len({e.id for e in everything}) == 9  # created, charge, succeeded x3
    assert gateway.retrieve_event(events[0].id).payload == events[0].payload
    assert list(gateway.list_events(datetime.now(UTC) + timedelta(minutes=5))) == []


def test_backfill_respects_the_30_day_retention(gateway, caplog):
    now = datetime(2026, 11, 1, tzinfo=UTC)
    start, clamped = backfill_start(now - timedelta(days=45), now)
    assert clamped and now - start < timedelta(days=30)
    assert backfill_start(now - timedelta(days=3), now) == (now - timedelta(days=3), False)
    with pytest.raises(ValueError, match="timezone-aware"):
        backfill_start(datetime(2026, 10, 1), now)
    with caplog.at_level(logging.WARNING, logger="sierra_sync.stripe"):
        assert list(gateway.list_events(datetime.now(UTC) - timedelta(days=60))) == []
    assert "30 days" in caplog.text
    with pytest.raises(ValueError, match="at most 20"):
        list(gateway.list_events(now, types=[f"t{i}" for i in range(21)]))


def test_errors_are_typed_and_secret_free(stripe_sandbox, gateway):
    live = "sk_live_abcdefghijklmnop0123"
    bad = StripeGateway(live, base_url=stripe_sandbox.url, retry=RetryPolicy(sleep=lambda s: None))
    with pytest.raises(StripeAuthenticationError) as info:
        bad.retrieve_payment_intent("pi_x")
    assert live not in str(info.value) and "blocks setup" in info.value.message and not info.value.retryable
    assert live not in repr(bad)
    with pytest.raises(StripeNotFoundError):
        gateway.retrieve_payment_intent("pi_doesnotexist")
    with pytest.raises(StripeConfigError, match="secret"):
        StripeGateway("pk_test_publishable", base_url=stripe_sandbox.url)
    with pytest.raises(StripeConfigError, match="plain http"):
        StripeGateway(KEY, base_url="http://stripe.example.com")
