"""Stripe refund -> QBO RefundReceipt mapping."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connectors.quickbooks.mapping_common import MappingError
from connectors.quickbooks.mapping_refund import (
    RefundRefs,
    StripeRefund,
    refund_to_refund_receipt,
)
from connectors.quickbooks.settings import parse_settings
from sierra_core.db.models import Payment

REFUND = StripeRefund("re_3QabcDEFghiJKLmnoPQRstu", Decimal("100.25"), date(2026, 11, 2), "ch_1", "duplicate")


def payment() -> Payment:
    return Payment(
        amount=Decimal("850.00"), method="card", stripe_payment_intent_id="pi_1", stripe_charge_id="ch_1"
    )


def test_one_line_on_the_refund_item_paid_from_the_clearing_account():
    settings = parse_settings(
        {
            "items": {"stripe_refund": {"value": "7", "name": "Refunds"}},
            "default_item": {"value": "1"},
            "accounts": {"stripe_clearing": {"value": "90", "name": "Stripe Clearing"}},
        }
    )
    body = refund_to_refund_receipt(REFUND, payment(), RefundRefs("58", "2001"), settings)
    assert body["CustomerRef"] == {"value": "58"}
    assert body["TxnDate"] == "2026-11-02"
    assert body["PaymentRefNum"] == REFUND.id[-21:] and len(body["PaymentRefNum"]) == 21
    assert body["DepositToAccountRef"] == {"value": "90", "name": "Stripe Clearing"}
    [line] = body["Line"]
    assert line["Amount"] == Decimal("100.25")
    assert line["SalesItemLineDetail"]["ItemRef"] == {"value": "7", "name": "Refunds"}
    assert line["SalesItemLineDetail"]["UnitPrice"] * line["SalesItemLineDetail"]["Qty"] == Decimal("100.25")
    assert "invoice #2001" in line["Description"]
    assert "re_3QabcDEFghiJKLmnoPQRstu" in body["PrivateNote"] and "duplicate" in body["PrivateNote"]


def test_without_a_clearing_account_or_refund_item_the_defaults_apply():
    settings = parse_settings({"default_item": {"value": "1", "name": "Services"}})
    body = refund_to_refund_receipt(REFUND, payment(), RefundRefs("58"), settings)
    assert body["DepositToAccountRef"]["value"] == "4"  # deposit_to: Undeposited Funds
    assert body["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] == "1"


@pytest.mark.parametrize(
    ("settings", "refs", "match"),
    [
        ({}, RefundRefs("58"), "stripe_refund"),
        ({"default_item": {"value": "1"}}, RefundRefs(""), "customer"),
    ],
)
def test_what_is_missing_is_named(settings, refs, match):
    with pytest.raises(MappingError, match=match):
        refund_to_refund_receipt(REFUND, payment(), refs, parse_settings(settings))
