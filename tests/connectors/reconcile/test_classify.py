"""The pure classification over hand-made frames: every class, found once, and the accuracy figures."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.reconcile.accuracy import discrepancy_rows, percent, summarize
from connectors.reconcile.classify import Options, classify
from connectors.reconcile.frames import APP_COLUMNS, QBO_COLUMNS, STRIPE_COLUMNS, cents, frame


def app_row(entity_type, app_id, number, amount, external_id=None, **kw):
    row = {
        "entity_type": entity_type,
        "app_id": app_id,
        "number": number,
        "amount": cents(amount),
        "status": "sent",
        "deleted": False,
        "external_id": external_id,
    }
    if entity_type == "invoice":
        row["balance"] = cents(kw.pop("balance", amount))
    row.update(kw)
    return row


def qbo_row(entity_type, external_id, number, amount, **kw):
    row = {
        "entity_type": entity_type,
        "external_id": external_id,
        "number": number,
        "amount": cents(amount),
        "voided": False,
        "sync_token": "0",
    }
    if entity_type == "invoice":
        row["balance"] = cents(kw.pop("balance", amount))
    row.update(kw)
    return row


def charge(charge_id, amount, intent=None, refunded="0", status="succeeded"):
    return {
        "charge_id": charge_id,
        "payment_intent_id": intent,
        "amount": cents(amount),
        "refunded": cents(refunded),
        "fee": cents("0.30"),
        "net": (cents(amount) or 0) - 30,
        "status": status,
    }


def world():
    app = [
        app_row("customer", "c1", "Acme", "0", "10"),
        app_row("invoice", "i-ok", "1001", "100.00", "20"),
        app_row("invoice", "i-gone", "1002", "50.00", "21"),
        app_row("invoice", "i-edit", "1003", "75.00", "22"),
        app_row("invoice", "i-round", "1004", "33.33", "23"),
        app_row("invoice", "i-new", "1005", "10.00"),
        app_row("invoice", "i-dup", "1006", "60.00", "25"),
        app_row("invoice", "i-nolink", "1007", "70.00"),
        app_row("invoice", "i-bal", "1008", "80.00", "27", balance="30.00", status="partially_paid"),
        app_row("invoice", "i-draft", "1009", "5.00", status="draft"),
        app_row("payment", "p-ok", "ch_1", "100.00", "40", stripe_charge_id="ch_1", refunded=0),
        app_row("payment", "p-refund", "ch_2", "20.00", "41", stripe_charge_id="ch_2", refunded=0),
    ]
    qbo = [
        qbo_row("customer", "10", "Acme", "0"),
        qbo_row("invoice", "20", "1001", "100.00"),
        qbo_row("invoice", "22", "1003", "80.00"),
        qbo_row("invoice", "23", "1004", "33.34"),
        qbo_row("invoice", "25", "1006", "60.00"),
        qbo_row("invoice", "26", "1006", "60.00"),
        qbo_row("invoice", "27", "1007x", "1.00"),  # placeholder replaced below
        qbo_row("invoice", "28", "1007", "70.00"),
        qbo_row("invoice", "29", "2000", "12.00"),
        qbo_row("payment", "40", "ch_1", "100.00"),
        qbo_row("payment", "41", "ch_2", "20.00"),
    ]
    qbo[6] = qbo_row("invoice", "27", "1008", "80.00", balance="80.00")
    stripe = [
        charge("ch_1", "100.00"),
        charge("ch_2", "20.00", refunded="5.00"),
        charge("ch_9", "42.00"),
        charge("ch_failed", "9.00", status="failed"),
    ]
    return frame(app, APP_COLUMNS), frame(qbo, QBO_COLUMNS), frame(stripe, STRIPE_COLUMNS)


def kinds_of(disc):
    return sorted(zip(disc["kind"], disc["app_id"].fillna("-"), disc["external_id"].fillna("-"), strict=True))


def test_every_class_is_found_once():
    app, qbo, stripe = world()
    result = classify(app, qbo, stripe, Options(tolerance_cents=1))
    assert kinds_of(result.discrepancies) == sorted(
        [
            ("missing_in_qbo", "i-gone", "21"),
            ("amount_mismatch", "i-edit", "22"),
            ("rounding", "i-round", "23"),
            ("missing_in_qbo", "i-new", "-"),
            ("duplicate_in_qbo", "i-dup", "26"),
            ("unlinked", "i-nolink", "28"),
            ("status_mismatch", "i-bal", "27"),
            ("missing_in_app", "-", "29"),
            ("amount_mismatch", "p-refund", "41"),
            ("orphan_stripe_charge", "-", "-"),
        ]
    )
    summary = summarize(result, app, qbo, stripe)
    # 11 app records in scope (the draft is not expected in QuickBooks) + 1 QBO-only + 1 duplicate + 1 charge
    assert summary["records_total"] == 14
    assert summary["records_matched"] == 4  # customer, i-ok, p-ok, i-dup (its duplicate is its own record)
    assert summary["counts"]["matched"] == 4
    assert summary["counts"]["rounding"] == 1
    assert summary["accuracy_pct"] == percent(4, 14) == Decimal("28.57")
    assert summary["by_entity"]["payment"]["counts"]["orphan_stripe_charge"] == 1
    assert summary["totals"]["stripe"] == {
        "charges": 3,
        "amount": "162.00",
        "refunded": "5.00",
        "fees": "0.90",
        "net": "161.10",
    }


def test_rounding_beyond_the_tolerance_is_a_mismatch_and_zero_tolerance_reports_every_cent():
    app, qbo, stripe = world()
    strict = classify(app, qbo, stripe, Options(tolerance_cents=0)).discrepancies
    assert ("amount_mismatch", "i-round", "23") in kinds_of(strict)
    assert "rounding" not in set(strict["kind"])


def test_discrepancy_rows_are_exact_text_largest_first():
    app, qbo, stripe = world()
    rows = discrepancy_rows(classify(app, qbo, stripe, Options()).discrepancies)
    edit = next(r for r in rows if r["app_id"] == "i-edit")
    assert (edit["app_amount"], edit["qbo_amount"], edit["difference"]) == ("75.00", "80.00", "5.00")
    assert rows[0]["app_id"] == "i-ok" or rows[0]["kind"] in {
        "missing_in_app",
        "duplicate_in_qbo",
        "missing_in_qbo",
        "unlinked",
        "orphan_stripe_charge",
    }
    assert set(rows[0]) >= {
        "entity_type",
        "kind",
        "app_id",
        "external_id",
        "app_amount",
        "qbo_amount",
        "stripe_amount",
        "action",
    }


def test_clean_books_are_100_percent():
    app, qbo, _ = world()
    app = app[app["app_id"].isin(["c1", "i-ok", "p-ok"])]
    qbo = qbo[qbo["external_id"].isin(["10", "20", "40"])]
    stripe = frame([charge("ch_1", "100.00")], STRIPE_COLUMNS)
    result = classify(app, qbo, stripe, Options())
    summary = summarize(result, app, qbo, stripe)
    assert len(result.discrepancies) == 0
    assert summary["accuracy_pct"] == Decimal("100.00")
    assert summary["amount_accuracy_pct"] == Decimal("100.00")


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(999, 1000, "99.90"), (99999, 100000, "99.99"), (0, 0, "100.00"), (1, 3, "33.33")],
)
def test_percent_rounds_down(part, whole, expected):
    assert percent(part, whole) == Decimal(expected)


def test_float_money_is_refused():
    with pytest.raises(TypeError):
        cents(1.5)  # type: ignore[arg-type]


def test_only_an_unlinked_record_gives_one_row_not_phantom_missing_ones():
    app, qbo, _ = world()
    app = app[app["app_id"].isin(["i-ok", "i-nolink"])]
    qbo = qbo[qbo["external_id"].isin(["20", "28"])]
    result = classify(app, qbo, frame([], STRIPE_COLUMNS), Options(stripe_checked=False))
    assert kinds_of(result.discrepancies) == [("unlinked", "i-nolink", "28")]


def test_a_sub_cent_app_amount_is_reported_never_matched_by_rounding():
    """An app total of 100.125 rounds to the 100.13 QuickBooks holds: it is still reported, not matched."""
    app = frame([app_row("invoice", "i-odd", "1001", "100.125", "20", exact_amount="100.125")], APP_COLUMNS)
    qbo = frame([qbo_row("invoice", "20", "1001", "100.13")], QBO_COLUMNS)
    result = classify(app, qbo, frame([], STRIPE_COLUMNS), Options(stripe_checked=False))
    rows = result.discrepancies
    assert list(rows["kind"]) == ["amount_mismatch"]
    assert "100.125 has more than two decimals" in rows["detail"].iloc[0]
    assert "to the cent" in rows["action"].iloc[0]
    summary = summarize(result, app, qbo, frame([], STRIPE_COLUMNS))
    assert summary["accuracy_pct"] == Decimal("0.00")
