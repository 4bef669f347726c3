"""Money at the Stripe boundary: `Decimal` in the app, integer minor units on the wire. Never float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sierra_core.errors import SierraError

__all__ = [
    "MAX_MINOR_UNITS",
    "ZERO_DECIMAL_CURRENCIES",
    "AmountError",
    "from_minor_units",
    "normalize_currency",
    "to_minor_units",
]

# Stripe's zero-decimal currencies: the amount on the wire is the whole amount (no cents).
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
MAX_MINOR_UNITS = 99_999_999  # Stripe's largest charge amount (eight digits)


class AmountError(SierraError, ValueError):
    """An amount that cannot be sent to Stripe as it is (sub-cent, negative, not a number, too large)."""


def normalize_currency(currency: str) -> str:
    """The ISO code in Stripe's lower case (`"USD"` -> `"usd"`); `AmountError` unless three letters."""
    code = (currency or "").strip().lower()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise AmountError(f"currency {currency!r} is not a three-letter ISO code such as 'usd'")
    return code


def _exponent(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL_CURRENCIES else 2


def to_minor_units(amount: Decimal, currency: str, *, allow_zero: bool = False) -> int:
    """`Decimal('1234.56')`, `'usd'` -> `123456`, exactly.

    Refuses floats, NaN/infinity, negatives, more decimals than the currency has (no silent rounding:
    `1.005` is an error, not `100`), and amounts above Stripe's maximum.
    """
    given: object = amount  # callers outside the type checker can pass a float: refuse it
    if isinstance(given, bool) or not isinstance(given, Decimal | int):
        raise AmountError(f"amount must be a Decimal, not {type(given).__name__} (never float money)")
    code = normalize_currency(currency)
    try:
        value = Decimal(amount)
        if not value.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise AmountError(f"amount {amount!r} is not a finite number") from None
    scaled = value.scaleb(_exponent(code))
    if scaled != scaled.to_integral_value():
        raise AmountError(
            f"amount {value} {code.upper()} has more decimals than the currency allows "
            f"({_exponent(code)}); round it in the app before charging"
        )
    units = int(scaled)
    if units < 0 or (units == 0 and not allow_zero):
        raise AmountError(f"amount {value} {code.upper()} must be greater than zero")
    if units > MAX_MINOR_UNITS:
        raise AmountError(f"amount {value} {code.upper()} is above Stripe's maximum charge amount")
    return units


def from_minor_units(units: int, currency: str) -> Decimal:
    """`123456`, `'usd'` -> `Decimal('1234.56')` (two places kept, also for `-250` -> `Decimal('-2.50')`)."""
    given: object = units
    if isinstance(given, bool) or not isinstance(given, int):
        raise AmountError(f"Stripe amounts are integers in minor units, got {type(given).__name__}")
    exponent = _exponent(normalize_currency(currency))
    return Decimal(units).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))
