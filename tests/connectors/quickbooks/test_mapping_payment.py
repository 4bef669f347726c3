"""Payment <-> QBO Payment mapping against the real payment captures."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connectors.quickbooks.mapping import (
    MappingError,
    PaymentRefs,
    dumps_qbo,
    payment_applications,
    payment_ref_num,
    payment_to_qbo,
    payment_update,
    qbo_payment_to_values,
    ref_value,
)
from connectors.quickbooks.settings import QuickBooksSettings, parse_settings
from sierra_core.db.models import Payment
from tests import fixtures

FIXTURES = fixtures.QUICKBOOKS
D = Decimal
CAPTURE_SETTINGS = parse_settings(
    {"accounts": {"deposit_to": {"value": "1150040000", "name": "Hyphen Wallet"}}}
)
CAPTURE_REFS = PaymentRefs(customer_id="59", invoice_id="660", customer_name="Accenture")


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)
    return data


def captured(name: str, side: str) -> dict[str, Any]:
    body = load(name)[side]["body"]
    item: dict[str, Any] = body["BatchItemRequest" if side == "request" else "BatchItemResponse"][0][
        "Payment"
    ]
    return item


def capture_payment(**kw: Any) -> Payment:
    """The app row equivalent to payment_create.json: 3.00 paid on invoice 660."""
    fields: dict[str, Any] = {
        "amount": D("3.00"),
        "payment_date": date(2025, 5, 29),
        "reference_number": "EXT-PAY-TEST-1100",
        "method": "wire",
        "status": "succeeded",
        "currency": "USD",
    }
    fields.update(kw)
    return Payment(**fields)


def test_create_body_matches_the_real_capture():
    ours = payment_to_qbo(capture_payment(), CAPTURE_REFS, CAPTURE_SETTINGS)
    theirs = captured("payment_create.json", "request")
    assert ours == {
        "CustomerRef": {"value": "59", "name": "Accenture"},
        "TotalAmt": D("3.00"),
        "TxnDate": "2025-05-29",
        "PaymentRefNum": "EXT-PAY-TEST-1100",
        "DepositToAccountRef": {"value": "1150040000", "name": "Hyphen Wallet"},
        "Line": [{"Amount": D("3.00"), "LinkedTxn": [{"TxnId": "660", "TxnType": "Invoice"}]}],
    }
    assert set(theirs) - set(ours) == {"ExchangeRate"}
    for key in ours:
        assert json.loads(dumps_qbo(ours[key]), parse_float=Decimal) == theirs[key] or key == "TxnDate"
    assert theirs["TxnDate"].startswith(ours["TxnDate"])
    assert '"TotalAmt":3.00' in dumps_qbo(ours) and '"Amount":3.00' in dumps_qbo(ours)


def test_sparse_update_matches_the_captured_update():
    theirs = captured("payment_sparse_update.json", "request")
    full = payment_update(
        capture_payment(amount=D("2")), CAPTURE_REFS, CAPTURE_SETTINGS, qbo_id="661", sync_token="0"
    )
    assert set(full) <= set(theirs) and (full["Id"], full["SyncToken"], full["sparse"]) == ("661", "0", True)
    assert full["TotalAmt"] == theirs["TotalAmt"] == D("2.00")

    current = captured("payment_create.json", "response")
    changed = payment_update(
        capture_payment(amount=D("2")),
        CAPTURE_REFS,
        CAPTURE_SETTINGS,
        qbo_id="661",
        sync_token="0",
        current=current,
    )
    assert changed == {
        "Id": "661",
        "SyncToken": "0",
        "sparse": True,
        "TotalAmt": D("2.00"),
        "Line": [{"Amount": D("2.00"), "LinkedTxn": [{"TxnId": "660", "TxnType": "Invoice"}]}],
    }
    same = payment_update(
        capture_payment(), CAPTURE_REFS, CAPTURE_SETTINGS, qbo_id="661", sync_token="0", current=current
    )
    assert same == {"Id": "661", "SyncToken": "0", "sparse": True}


def test_the_doc_sample_shape():
    theirs = load("payment_create_doc_sample.json")["request"]["body"]
    ours = payment_to_qbo(
        capture_payment(amount=D("25"), reference_number=None), PaymentRefs("20", "67"), QuickBooksSettings()
    )
    assert {k: ours[k] for k in theirs} == {
        "TotalAmt": D("25.00"),
        "CustomerRef": {"value": "20"},
        "Line": theirs["Line"],
    }
    assert ours["DepositToAccountRef"] == {"value": "4", "name": "Undeposited Funds"}  # the default


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("check", {"value": "2", "name": "Check"}),
        ("cash", {"value": "1", "name": "Cash"}),
        ("ach", None),
        ("card", None),
    ],
)
def test_payment_method_mapping_defaults(method, expected):
    body = payment_to_qbo(capture_payment(method=method), CAPTURE_REFS, QuickBooksSettings())
    assert body.get("PaymentMethodRef") == expected


def test_stripe_payments_go_to_the_clearing_account_with_a_short_ref_num():
    settings = parse_settings({"accounts": {"stripe_clearing": {"value": "99", "name": "Stripe Clearing"}}})
    stripe = capture_payment(
        reference_number=None, method="card", stripe_charge_id="ch_3PqRsTuVwXyZ0123456789ab", notes="Deposit"
    )
    body = payment_to_qbo(stripe, CAPTURE_REFS, settings)
    assert body["DepositToAccountRef"] == {"value": "99", "name": "Stripe Clearing"}
    assert body["PaymentRefNum"] == payment_ref_num(stripe) == "RsTuVwXyZ0123456789ab"  # the last 21
    assert body["PrivateNote"] == "Stripe charge ch_3PqRsTuVwXyZ0123456789ab. Deposit"
    cheque = payment_to_qbo(capture_payment(), CAPTURE_REFS, settings)
    assert cheque["DepositToAccountRef"]["value"] == "4"


def test_unapplied_payment_has_no_lines():
    body = payment_to_qbo(capture_payment(), PaymentRefs("59", None), QuickBooksSettings())
    assert body["Line"] == [] and body["TotalAmt"] == D("3.00")


@pytest.mark.parametrize(
    ("payment", "refs", "message"),
    [
        (
            capture_payment(status="failed"),
            CAPTURE_REFS,
            "Payment EXT-PAY-TEST-1100 is failed; only collected payments",
        ),
        (
            capture_payment(status="pending"),
            CAPTURE_REFS,
            "is pending; only collected payments go to QuickBooks.",
        ),
        (
            capture_payment(),
            PaymentRefs("", "660"),
            "Payment EXT-PAY-TEST-1100 has no QuickBooks customer yet.",
        ),
    ],
)
def test_payments_that_cannot_go_to_quickbooks(payment, refs, message):
    with pytest.raises(MappingError) as err:
        payment_to_qbo(payment, refs, QuickBooksSettings())
    assert message in str(err.value) and str(err.value).startswith("QuickBooks sync failed: ")


def test_pull_the_created_payment():
    qbo = captured("payment_create.json", "response")
    values = qbo_payment_to_values(qbo, CAPTURE_SETTINGS)
    assert values == {
        "payment_date": date(2025, 5, 29),
        "reference_number": "EXT-PAY-TEST-1100",
        "method": "other",
        "currency": "USD",
        "amount": D("3.00"),
        "status": "succeeded",
    }
    assert type(values["amount"]) is Decimal
    assert payment_applications(qbo) == [("660", D("3.00"))]
    assert ref_value(qbo, "CustomerRef") == "59"


def test_pull_keeps_an_unmapped_app_method_and_maps_known_ones():
    qbo = captured("payment_create.json", "response")
    assert qbo_payment_to_values(qbo, current=capture_payment(method="ach"))["method"] == "ach"
    with_check = {**qbo, "PaymentMethodRef": {"value": "2"}}
    assert qbo_payment_to_values(with_check, current=capture_payment(method="ach"))["method"] == "check"


def test_pull_the_updated_and_the_voided_payment():
    updated = captured("payment_sparse_update.json", "response")
    assert qbo_payment_to_values(updated)["amount"] == D("2.00")
    voided = load("payment_void_doc_sample.json")["response"]["body"]["Payment"]
    values = qbo_payment_to_values({**voided, "TxnDate": "2014-09-16"})
    assert values["status"] == "void" and "amount" not in values
    assert payment_applications(voided) == []


def test_a_payment_entered_in_quickbooks_against_two_invoices():
    qbo = {
        "Id": "700",
        "TxnDate": "2026-10-20",
        "TotalAmt": D("150.00"),
        "CustomerRef": {"value": "59"},
        "Line": [
            {"Amount": D("100.00"), "LinkedTxn": [{"TxnId": "660", "TxnType": "Invoice"}]},
            {"Amount": D("50.00"), "LinkedTxn": [{"TxnId": "661", "TxnType": "Invoice"}]},
            {"Amount": D("5.00"), "LinkedTxn": [{"TxnId": "12", "TxnType": "CreditMemo"}]},
        ],
    }
    assert payment_applications(qbo) == [("660", D("100.00")), ("661", D("50.00"))]
    assert qbo_payment_to_values(qbo)["amount"] == D("150.00")


def test_floats_are_refused_when_pulling():
    qbo = {**captured("payment_create.json", "response"), "TotalAmt": 3.0}
    with pytest.raises(TypeError, match="parse_float=Decimal"):
        qbo_payment_to_values(qbo)
