"""Expense <-> QBO Purchase mapping (no Purchase capture exists: shapes follow the sandbox)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connectors.quickbooks.mapping import (
    ExpenseRefs,
    MappingError,
    dumps_qbo,
    expense_to_purchase,
    expense_update,
    purchase_to_values,
)
from connectors.quickbooks.settings import QuickBooksSettings, parse_settings
from sierra_core.db.models import Expense

D = Decimal


def expense(**kw: Any) -> Expense:
    fields: dict[str, Any] = {
        "vendor_name": "Lowe's Pro Supply",
        "category": "materials",
        "payment_type": "credit_card",
        "amount": D("1234.50"),
        "currency": "USD",
        "expense_date": date(2026, 10, 2),
        "description": "Lumber for Peña kitchen remodel",
        "reference_number": "R123456",
    }
    fields.update(kw)
    return Expense(**fields)


def test_purchase_body_with_defaults():
    body = expense_to_purchase(
        expense(), ExpenseRefs(vendor_id="56", vendor_name="Lowe's Pro Supply"), QuickBooksSettings()
    )
    assert body == {
        "PaymentType": "CreditCard",
        "AccountRef": {"value": "41", "name": "Mastercard"},
        "TxnDate": "2026-10-02",
        "EntityRef": {"value": "56", "type": "Vendor", "name": "Lowe's Pro Supply"},
        "DocNumber": "R123456",
        "PrivateNote": "Lumber for Peña kitchen remodel",
        "Line": [
            {
                "DetailType": "AccountBasedExpenseLineDetail",
                "Amount": D("1234.50"),
                "AccountBasedExpenseLineDetail": {
                    "AccountRef": {"value": "80", "name": "Cost of Goods Sold"}
                },
                "Description": "Lumber for Peña kitchen remodel",
            }
        ],
    }
    assert '"Amount":1234.50' in dumps_qbo(body)


@pytest.mark.parametrize(
    ("payment_type", "qbo_type", "account"),
    [
        ("cash", "Cash", "35"),
        ("check", "Check", "35"),
        ("credit_card", "CreditCard", "41"),
        ("ach", "Cash", "35"),
    ],
)
def test_payment_types(payment_type, qbo_type, account):
    body = expense_to_purchase(expense(payment_type=payment_type), ExpenseRefs(), QuickBooksSettings())
    assert (body["PaymentType"], body["AccountRef"]["value"]) == (qbo_type, account)


def test_without_a_vendor_ref_the_vendor_name_goes_in_the_note():
    body = expense_to_purchase(expense(), ExpenseRefs(), QuickBooksSettings())
    assert "EntityRef" not in body
    assert body["PrivateNote"] == "Paid to Lowe's Pro Supply. Lumber for Peña kitchen remodel"


def test_unmapped_category_message():
    with pytest.raises(MappingError) as err:
        expense_to_purchase(expense(category="insurance"), ExpenseRefs(), QuickBooksSettings())
    assert str(err.value) == (
        "QuickBooks sync failed: Expense #R123456 (Lowe's Pro Supply, 2026-10-02) uses category 'insurance', "
        "which is not mapped to a QuickBooks expense account. Map it in the integration settings."
    )
    assert err.value.code == "unmapped_account"


def test_unmapped_payment_type_message():
    settings = parse_settings(
        {"accounts": {"expense_payment": {"cash": {"payment_type": "Cash", "account": {"value": "35"}}}}}
    )
    with pytest.raises(MappingError) as err:
        expense_to_purchase(expense(reference_number=None), ExpenseRefs(), settings)
    assert str(err.value) == (
        "QuickBooks sync failed: Expense (Lowe's Pro Supply, 2026-10-02) is paid by 'credit_card', "
        "which is not mapped to a QuickBooks bank or credit card account. Map it in the integration settings."
    )


@pytest.mark.parametrize(
    ("accounts", "category", "expected"),
    [
        ({"stripe_fees": {"value": "70", "name": "Stripe fees"}}, "payment_processing", "70"),
        ({"default_expense": {"value": "7"}}, "office", "7"),
        (
            {"expense_categories": {"office": {"value": "15"}}, "default_expense": {"value": "7"}},
            "office",
            "15",
        ),
    ],
)
def test_expense_account_fallbacks(accounts, category, expected):
    body = expense_to_purchase(
        expense(category=category), ExpenseRefs(), parse_settings({"accounts": accounts})
    )
    assert body["Line"][0]["AccountBasedExpenseLineDetail"]["AccountRef"]["value"] == expected


def test_long_reference_numbers_keep_their_end_and_the_full_text_in_the_note():
    body = expense_to_purchase(
        expense(reference_number="HD-2026-000000000123456789"), ExpenseRefs("56"), QuickBooksSettings()
    )
    assert body["DocNumber"] == "2026-000000000123456789"[-21:] and len(body["DocNumber"]) == 21
    assert body["PrivateNote"].startswith("Reference HD-2026-000000000123456789. ")


def sandbox_purchase(body: dict[str, Any]) -> dict[str, Any]:
    """What QBO answers for a created Purchase (the sandbox's shape: Id, SyncToken, TotalAmt, names)."""
    parsed: dict[str, Any] = json.loads(
        dumps_qbo(
            {
                **body,
                "Id": "301",
                "SyncToken": "0",
                "TotalAmt": body["Line"][0]["Amount"],
                "MetaData": {
                    "CreateTime": "2026-10-02T09:00:00-07:00",
                    "LastUpdatedTime": "2026-10-02T09:00:00-07:00",
                },
                "domain": "QBO",
                "sparse": False,
            }
        ),
        parse_float=Decimal,
    )
    return parsed


def test_pull_a_pushed_purchase_round_trips():
    app = expense()
    qbo = sandbox_purchase(
        expense_to_purchase(app, ExpenseRefs("56", "Lowe's Pro Supply"), QuickBooksSettings())
    )
    values = purchase_to_values(qbo)
    assert values == {
        "expense_date": date(2026, 10, 2),
        "reference_number": "R123456",
        "vendor_name": "Lowe's Pro Supply",
        "category": "other",  # Cost of Goods Sold holds seven app categories: ambiguous alone
        "payment_type": "credit_card",
        "description": "Lumber for Peña kitchen remodel",
        "amount": D("1234.50"),
    }
    assert purchase_to_values(qbo, current=app)["category"] == "materials"
    assert type(values["amount"]) is Decimal
    assert expense_update(
        app,
        ExpenseRefs("56", "Lowe's Pro Supply"),
        QuickBooksSettings(),
        qbo_id="301",
        sync_token="0",
        current=qbo,
    ) == {
        "Id": "301",
        "SyncToken": "0",
        "sparse": True,
    }


def test_pull_maps_a_unique_account_and_an_ach_expense_stays_ach():
    settings = parse_settings({"accounts": {"expense_categories": {"fuel": {"value": "56", "name": "Fuel"}}}})
    app = expense(category="fuel", payment_type="ach", vendor_name="Chevron")
    qbo = sandbox_purchase(expense_to_purchase(app, ExpenseRefs(), settings))
    assert purchase_to_values(qbo, settings)["category"] == "fuel"
    assert purchase_to_values(qbo, settings)["payment_type"] == "cash"  # a bank "Cash" purchase
    assert purchase_to_values(qbo, settings, current=app)["payment_type"] == "ach"
    assert purchase_to_values(qbo, settings, current=app)["vendor_name"] == "Chevron"  # no EntityRef in QBO
