"""Money as people read it in reports and the Prefect UI: `$12,114,239.78`, `-$0.01` (exact, never float)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def usd(value: object) -> str:
    """`$1,234.50` for a Decimal, int or numeric text; None or a blank shows as `-`; anything that is not
    a number is returned as text. Sub-cent amounts keep their digits (`$100.125`): they are never rounded
    into looking exact."""
    if value is None or value == "":
        return "-"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    exact = number.quantize(CENT, rounding=ROUND_HALF_UP)
    shown = exact if exact == number else number
    sign = "-" if shown < 0 else ""
    whole, _, fraction = f"{abs(shown):f}".partition(".")
    return f"{sign}${int(whole):,}.{(fraction or '00').ljust(2, '0')}"


__all__ = ["usd"]
