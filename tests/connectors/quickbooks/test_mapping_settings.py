"""The QuickBooks integration settings: defaults, parsing, one actionable error."""

from __future__ import annotations

import pytest

from connectors.quickbooks.settings import (
    QboRef,
    QuickBooksSettings,
    SettingsError,
    parse_settings,
    sample_company_settings,
)
from connectors.seed.catalog import SERVICES
from sierra_core.db.models.app import EXPENSE_PAYMENT_TYPES


def test_defaults_match_the_sample_company():
    settings = parse_settings(None)
    assert settings == parse_settings({}) == QuickBooksSettings()
    assert (
        settings.sync_customers,
        settings.sync_invoices,
        settings.sync_payments,
        settings.sync_expenses,
    ) == (
        True,
        True,
        True,
        True,
    )
    assert settings.sync_draft_invoices is False
    assert settings.items == {} and settings.default_item is None
    assert settings.accounts.deposit_to == QboRef(value="4", name="Undeposited Funds")
    assert settings.accounts.expense_categories["materials"] == QboRef(value="80", name="Cost of Goods Sold")
    assert "insurance" not in settings.accounts.expense_categories
    assert set(settings.accounts.expense_payment) == set(EXPENSE_PAYMENT_TYPES)
    assert settings.accounts.expense_payment["credit_card"].account.value == "41"
    assert settings.payment_methods["check"].value == "2" and settings.terms["Net 30"].value == "3"
    assert (settings.tax.taxable, settings.tax.non_taxable, settings.tax.sales_tax_code) == (
        "TAX",
        "NON",
        None,
    )
    assert settings.conflict_policy.invoices == "last_write_wins"


def test_round_trip_through_json_and_integer_ids():
    raw = {
        "items": {"FRAMING-LABOR": {"value": 1, "name": "Services"}},
        "conflict_policy": {"payments": "qbo_wins"},
        "sync_expenses": False,
        "someone_elses_key": {"kept": "out of this model"},
    }
    settings = parse_settings(raw)
    assert settings.items["FRAMING-LABOR"] == QboRef(value="1", name="Services")
    assert (
        settings.conflict_policy.payments == "qbo_wins"
        and settings.conflict_policy.customers == "last_write_wins"
    )
    assert parse_settings(settings.to_json()) == settings
    assert "someone_elses_key" not in settings.to_json()
    assert QboRef(value="3").as_ref() == {"value": "3"}


def test_a_given_mapping_replaces_its_default():
    settings = parse_settings({"accounts": {"expense_categories": {"fuel": {"value": "56"}}}})
    assert settings.accounts.expense_categories == {"fuel": QboRef(value="56")}
    assert settings.accounts.deposit_to.value == "4"  # other defaults stay


CASH = {"payment_type": "Cash", "account": {"value": "35"}}
MALFORMED = [
    (
        {"items": {"X": {"valeu": "3"}}},
        "items.X.value: Field required; items.X.valeu: Extra inputs are not permitted",
    ),
    (
        {"items": {"X": {"value": ""}}},
        "items.X.value: Value error, a QuickBooks id must be 1 to 64 characters",
    ),
    ({"items": {" ": {"value": "1"}}}, "items: Value error, keys must not be blank"),
    (
        {"conflict_policy": {"invoices": "newest"}},
        "conflict_policy.invoices: Input should be 'last_write_wins', 'app_wins' or 'qbo_wins'",
    ),
    (
        {"accounts": {"expense_categories": {"food": {"value": "1"}}}},
        "unknown expense category 'food'; expected one of materials",
    ),
    ({"accounts": {"expense_payment": {"venmo": CASH}}}, "unknown expense payment type 'venmo'"),
    (
        {"accounts": {"expense_payment": {"cash": {**CASH, "payment_type": "Wire"}}}},
        "accounts.expense_payment.cash.payment_type: Input should be 'Cash', 'Check' or 'CreditCard'",
    ),
    ({"payment_methods": {"bitcoin": {"value": "9"}}}, "unknown payment method 'bitcoin'"),
    ({"accounts": {"deposit_to": None}}, "accounts.deposit_to: Input should be a valid dictionary"),
    ({"sync_invoices": "sometimes"}, "sync_invoices: Input should be a valid boolean"),
]


@pytest.mark.parametrize(("raw", "problem"), MALFORMED)
def test_malformed_settings_give_one_actionable_line(raw, problem):
    with pytest.raises(SettingsError) as err:
        parse_settings(raw)
    message = str(err.value)
    assert message.startswith("QuickBooks settings are invalid (") and message.endswith(
        "). Fix the integration settings."
    )
    assert problem in message and "\n" not in message
    assert err.value.code == "invalid_settings" and not err.value.retryable


def test_settings_that_are_not_an_object():
    with pytest.raises(
        SettingsError, match=r"must be a JSON object, not list\. Fix the integration settings\."
    ):
        parse_settings(["items"])  # type: ignore[arg-type]


def test_sample_company_settings_map_every_seed_item():
    settings = sample_company_settings()
    assert set(settings.items) == {code for code, *_ in SERVICES}
    assert settings.items["CONCRETE"].value == "3" and settings.items["FRAMING-LABOR"].value == "1"
    assert settings.accounts.default_expense == QboRef(value="80", name="Cost of Goods Sold")
    assert parse_settings(settings.to_json()) == settings
