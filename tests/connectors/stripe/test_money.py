"""Decimal <-> Stripe minor units: exact, or a clear error; never float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.stripe.money import AmountError, from_minor_units, normalize_currency, to_minor_units


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        (Decimal("1234.56"), "usd", 123456),
        (Decimal("1234.56"), "USD", 123456),
        (Decimal("0.50"), "usd", 50),
        (Decimal("10"), "usd", 1000),
        (Decimal("10.10"), "eur", 1010),
        (Decimal("999999.99"), "usd", 99_999_999),
        (Decimal("0.1") + Decimal("0.2"), "usd", 30),  # what float gets wrong
        (Decimal("5000"), "jpy", 5000),  # zero-decimal currency
        (7, "usd", 700),
    ],
)
def test_exact_conversion(amount, currency, units):
    assert to_minor_units(amount, currency) == units
    assert from_minor_units(units, currency) == Decimal(amount)


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        (12.34, "usd", "never float"),
        (Decimal("1.005"), "usd", "more decimals"),
        (Decimal("10.5"), "jpy", "more decimals"),
        (Decimal("0"), "usd", "greater than zero"),
        (Decimal("-5.00"), "usd", "greater than zero"),
        (Decimal("NaN"), "usd", "finite"),
        (Decimal("Infinity"), "usd", "finite"),
        (Decimal("1000000.00"), "usd", "maximum"),
        (Decimal("1.00"), "us dollars", "three-letter"),
        (True, "usd", "Decimal"),
    ],
)
def test_bad_amounts_are_refused_with_what_to_fix(amount, currency, message):
    with pytest.raises(AmountError, match=message):
        to_minor_units(amount, currency)


def test_minor_units_keep_two_places_and_sign():
    assert str(from_minor_units(-250, "usd")) == "-2.50"
    assert str(from_minor_units(0, "usd")) == "0.00"
    assert str(from_minor_units(3610, "usd")) == "36.10"
    with pytest.raises(AmountError):
        from_minor_units(12.5, "usd")  # type: ignore[arg-type]
    assert normalize_currency(" Usd ") == "usd"
    assert to_minor_units(Decimal("0.00"), "usd", allow_zero=True) == 0
