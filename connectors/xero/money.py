"""Xero's line arithmetic, in Decimal only: a line amount is quantity * unit amount rounded to the cent,
its tax is computed per line and rounded to the cent, and the document's totals are the sums.

* `Exclusive`: amounts exclude tax; tax = amount * rate / 100; SubTotal = Σ amounts, Total = SubTotal + tax.
* `Inclusive`: amounts include tax; tax = amount * rate / (100 + rate); Total = Σ amounts,
  SubTotal = Total - tax.
* `NoTax`: no tax at all; Total = SubTotal = Σ amounts.

Rounding is half away from zero (ROUND_HALF_UP on Decimal), as Xero rounds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

__all__ = ["CENT", "LineAmountTypes", "Totals", "cents", "line_amount", "line_tax", "totals"]

LineAmountTypes = Literal["Exclusive", "Inclusive", "NoTax"]
CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def cents(value: Decimal) -> Decimal:
    """`value` rounded to the cent, half away from zero."""
    if not isinstance(value, Decimal):
        raise TypeError("Xero amounts are computed in Decimal, never float")
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(quantity: Decimal, unit_amount: Decimal) -> Decimal:
    """Quantity * unit amount, to the cent."""
    return cents(quantity * unit_amount)


def line_tax(amount: Decimal, rate_percent: Decimal, kind: LineAmountTypes) -> Decimal:
    """The tax of one line of `amount` at `rate_percent` (e.g. Decimal("15") for 15 %)."""
    if not isinstance(amount, Decimal) or not isinstance(rate_percent, Decimal):
        raise TypeError("Xero amounts are computed in Decimal, never float")
    if kind == "NoTax" or rate_percent == 0:
        return Decimal("0.00")
    if kind == "Exclusive":
        return cents(amount * rate_percent / HUNDRED)
    return cents(amount * rate_percent / (HUNDRED + rate_percent))


@dataclass(frozen=True)
class Totals:
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal


def totals(lines: Iterable[tuple[Decimal, Decimal]], kind: LineAmountTypes) -> Totals:
    """SubTotal, TotalTax and Total of lines given as (line amount, tax rate %)."""
    amounts, taxes = Decimal("0.00"), Decimal("0.00")
    for amount, rate in lines:
        amounts += cents(amount)
        taxes += line_tax(cents(amount), rate, kind)
    if kind == "Inclusive":
        return Totals(amounts - taxes, taxes, amounts)
    return Totals(amounts, taxes, amounts + taxes)
