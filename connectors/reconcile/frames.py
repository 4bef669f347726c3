"""The three DataFrames a reconciliation compares, and money as integer cents.

Every amount column holds integer cents (`Int64`, nullable where a system has no amount), so joins and
differences are exact; Decimal comes back only at the edges (`to_decimal`). Floats are refused.

- app: one row per app record in scope: entity_type, app_id, number (DocNumber / DisplayName /
  PaymentRefNum), amount, balance, status, deleted, external_id (its QBO id through the entity link, or
  missing), stripe_charge_id, stripe_payment_intent_id, refunded, exact_amount (set only for an amount
  with more than two decimals, which `amount` cannot hold in cents).
- qbo: one row per QuickBooks object: entity_type, external_id, number, amount, balance, voided,
  sync_token.
- stripe: one row per Stripe charge: charge_id, payment_intent_id, amount, refunded, fee, net, status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

CENT = Decimal("0.01")

APP_COLUMNS = {
    "entity_type": "string",
    "app_id": "string",
    "number": "string",
    "amount": "Int64",
    "balance": "Int64",
    "status": "string",
    "deleted": "bool",
    "external_id": "string",
    "stripe_charge_id": "string",
    "stripe_payment_intent_id": "string",
    "refunded": "Int64",
    "exact_amount": "string",  # the app amount as stored when it has more than two decimals, else missing
}
QBO_COLUMNS = {
    "entity_type": "string",
    "external_id": "string",
    "number": "string",
    "amount": "Int64",
    "balance": "Int64",
    "voided": "bool",
    "sync_token": "string",
}
STRIPE_COLUMNS = {
    "charge_id": "string",
    "payment_intent_id": "string",
    "amount": "Int64",
    "refunded": "Int64",
    "fee": "Int64",
    "net": "Int64",
    "status": "string",
}


def cents(value: Decimal | int | str | None) -> int | None:
    """Integer cents of a money amount (half up to the cent first); None stays None; floats are refused."""
    if value is None:
        return None
    if isinstance(value, float):
        raise TypeError("money must be Decimal, int or str, never float")
    return int(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP).scaleb(2))


def sub_cent(value: Decimal | int | str | None) -> str | None:
    """The exact text of an amount with more than two decimals (`100.125`), else None: such an amount
    has no exact cents, and reconciliation reports it instead of rounding it into a match."""
    if value is None:
        return None
    number = Decimal(value)
    return None if number == number.quantize(CENT, rounding=ROUND_HALF_UP) else str(number)


def to_decimal(value: Any) -> Decimal | None:
    """Decimal of integer cents (a pandas NA or None gives None)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return Decimal(int(value)).scaleb(-2).quantize(CENT)


def frame(rows: Iterable[Mapping[str, Any]], columns: Mapping[str, str]) -> pd.DataFrame:
    """A DataFrame with exactly `columns`, in their dtypes (missing keys become missing values)."""
    records = list(rows)
    data = {name: [r.get(name) for r in records] for name in columns}
    return from_columns(data, columns)


def from_columns(data: Mapping[str, Any], columns: Mapping[str, str]) -> pd.DataFrame:
    """A DataFrame from column arrays (the fast path for large inputs), cast to the schema's dtypes."""
    out = pd.DataFrame({name: data[name] for name in columns})
    for name, dtype in columns.items():
        if dtype == "bool":
            out[name] = out[name].fillna(False).astype(bool)
        else:
            out[name] = out[name].astype(dtype)  # type: ignore[call-overload]  # dtype names from the schema
    return out


def empty(columns: Mapping[str, str]) -> pd.DataFrame:
    return frame([], columns)
