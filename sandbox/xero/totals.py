"""Server-computed line amounts, tax and totals, as Xero computes them.

A line's amount is Quantity * UnitAmount less its DiscountRate %, to 2 dp (half away from zero) unless the
line states its LineAmount. Its tax at the TaxType's effective rate, to 2 dp (unless the line states its
TaxAmount: Xero keeps an override as given): `Exclusive` adds it on top of
the amount, `Inclusive` takes it out of the amount (amount * rate / (100 + rate)), `NoTax` has none. The
document's SubTotal is the lines' amounts without tax, TotalTax their taxes, Total the two added."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

__all__ = ["LINE_AMOUNT_TYPES", "Totals", "cents", "compute", "decimal_of"]

LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)


def cents(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def decimal_of(value: Any, field: str, errors: list[str]) -> Decimal | None:
    """`value` as a Decimal, or None with a message in `errors`."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        errors.append(f"{field} must be a number")
        return None
    if not number.is_finite():
        errors.append(f"{field} must be a number")
        return None
    return number


@dataclass(frozen=True)
class Totals:
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal


def compute(
    lines: list[dict[str, Any]],
    amount_types: str,
    rate_of: Callable[[str], Decimal | None],
    errors: list[str],
) -> Totals:
    """Fill each line's LineAmount and TaxAmount (in place) and answer the document's totals; a problem of
    a line goes to `errors`."""
    sub_total = total_tax = Decimal(0)
    for n, line in enumerate(lines, 1):
        quantity = decimal_of(line.get("Quantity"), f"Line {n} Quantity", errors)
        unit = decimal_of(line.get("UnitAmount"), f"Line {n} UnitAmount", errors)
        discount = decimal_of(line.get("DiscountRate"), f"Line {n} DiscountRate", errors) or Decimal(0)
        stated = decimal_of(line.get("LineAmount"), f"Line {n} LineAmount", errors)
        stated_tax = decimal_of(line.get("TaxAmount"), f"Line {n} TaxAmount", errors)
        if quantity is None:
            quantity = Decimal(1)
        line["Quantity"] = quantity
        if unit is not None:
            line["UnitAmount"] = unit
        if stated is not None:
            amount = cents(stated)
        elif unit is not None:
            amount = cents(quantity * unit * (_HUNDRED - discount) / _HUNDRED)
        else:
            amount = Decimal("0.00")
        if (
            unit is not None
            and stated is not None
            and cents(quantity * unit * (_HUNDRED - discount) / _HUNDRED) != amount
        ):
            errors.append(f"Line {n}: the line total {stated} does not match the expected line total")
        rate = Decimal(0) if amount_types == "NoTax" else rate_of(str(line.get("TaxType") or "NONE"))
        if rate is None:
            rate = Decimal(0)
        if amount_types == "Inclusive":
            tax = cents(amount * rate / (_HUNDRED + rate))
        else:
            tax = cents(amount * rate / _HUNDRED)
        if stated_tax is not None and amount_types != "NoTax":
            tax = cents(stated_tax)  # Xero keeps a line's TaxAmount as given (it overrides the computed one)
        net = amount - tax if amount_types == "Inclusive" else amount
        line["LineAmount"], line["TaxAmount"] = amount, tax
        sub_total += net
        total_tax += tax
    return Totals(cents(sub_total), cents(total_tax), cents(sub_total + total_tax))
