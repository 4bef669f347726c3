"""Column types that behave the same on PostgreSQL and SQLite.

- Fixed / Money: NUMERIC(14,2) <-> Decimal, quantised to the cent on the way in and out (never float).
- UTCDateTime: timezone-aware in Python, UTC in the database; SQLite (which has no time zones) gets the
  UTC wall time and hands back an aware datetime.
- JSONDoc: JSONB on PostgreSQL, JSON text on SQLite.
- StrList: TEXT[] on PostgreSQL, a JSON array on SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Numeric, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")


def to_money(value: Decimal | int | str) -> Decimal:
    """Quantise to the cent, half up (the rounding accountants expect). Floats are refused."""
    if isinstance(value, float):
        raise TypeError("money must be Decimal, int or str, never float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class SubCentError(ValueError):
    """A money amount with more decimals than its column keeps: refused, never rounded."""


class Fixed(TypeDecorator[Decimal]):
    """NUMERIC(precision, scale) as Decimal, quantised to `scale` places on the way in and out.

    PostgreSQL stores it exactly. SQLite has no decimal type: it keeps NUMERIC values as REAL, which holds
    every value of up to 15 significant digits exactly enough that the shortest repr round-trips, so the
    value is read back through `str` and re-quantised: 14 digits (NUMERIC(14,2)) always come back as sent.

    `exact` (money): a value with more decimals than `scale` is never rounded. Writing one raises
    `SubCentError`; one already stored with more (SQLite keeps what another writer put there) is read back
    as it is, so the sync refuses it and reconciliation reports it instead of rounding it away. Only the
    binary noise of a REAL (more than 15 significant digits) is rounded off on reading.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 14, scale: int = 2, *, exact: bool = False) -> None:
        super().__init__(precision, scale)
        self.precision = precision
        self.scale = scale
        self.exact = exact
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        # asdecimal=False on SQLite: we convert to Decimal ourselves, without SQLAlchemy's float warning.
        if dialect.supports_native_decimal:
            return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=False))

    def _quantise(self, value: Decimal | int | str) -> Decimal:
        if isinstance(value, float):
            raise TypeError("money and quantities must be Decimal, int or str, never float")
        return Decimal(value).quantize(self._quantum, rounding=ROUND_HALF_UP)

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        rounded = self._quantise(value)
        if self.exact and rounded != Decimal(value):
            raise SubCentError(
                f"amount {value} has more than {self.scale} decimal places; money is kept to the cent and "
                "never rounded silently: round it where it is computed"
            )
        return rounded

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        raw = Decimal(str(value))
        rounded = self._quantise(raw)
        if not self.exact or rounded == raw:
            return rounded
        if isinstance(value, float) and len(raw.normalize().as_tuple().digits) > 15:
            return rounded  # the binary noise of a REAL (0.30000000000000004), not a value anyone wrote
        return raw


def Money() -> Fixed:
    """NUMERIC(14,2) <-> Decimal: every amount of money (exact: more decimals are refused, never rounded)."""
    return Fixed(14, 2, exact=True)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC; naive datetimes are refused (they are always a bug here)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONDoc = JSON().with_variant(JSONB(), "postgresql")
StrList = JSON().with_variant(ARRAY(Text()), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)
