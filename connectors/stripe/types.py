"""Small, typed views of the Stripe objects sierra-sync uses: plain values, `Decimal` money, UTC times.

They are built from the SDK objects' dict form (`to_dict()`), so nothing downstream depends on the SDK's
object model, and they are safe to pass between tasks (no client, no secret: `client_secret` is kept out
of `repr`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.stripe.money import from_minor_units, normalize_currency

__all__ = [
    "BalanceTransactionInfo",
    "FeeDetail",
    "InvoicePayment",
    "PaymentIntentInfo",
    "RefundInfo",
    "StripeEvent",
    "from_unix",
]


def from_unix(seconds: int | None) -> datetime | None:
    """Stripe's Unix seconds as an aware UTC datetime (None stays None)."""
    return None if seconds is None else datetime.fromtimestamp(int(seconds), tz=UTC)


def _id(value: Any) -> str | None:
    """An id whether the field is an id or an expanded object."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        found = value.get("id")
        return str(found) if found is not None else None
    return str(value)


@dataclass(frozen=True)
class InvoicePayment:
    """What to charge for one invoice: its open balance (Decimal, e.g. `Decimal('1234.56')`) and ids.

    `customer` is an optional Stripe customer id (`cus_…`); payment methods are Stripe's automatic ones.
    `generation` is bumped only to get a fresh intent for the same balance (for
    instance after the previous intent was canceled); it is part of the idempotency key.
    """

    invoice_id: uuid.UUID | str
    company_id: uuid.UUID | str
    balance: Decimal
    currency: str = "usd"
    customer: str | None = None
    invoice_number: str | None = None
    description: str | None = None
    generation: int = 0


@dataclass(frozen=True)
class PaymentIntentInfo:
    """A PaymentIntent as the app needs it; `replayed` is True when Stripe answered from its idempotency
    cache (the intent already existed for this invoice balance)."""

    id: str
    status: str
    amount: Decimal
    amount_received: Decimal
    currency: str
    invoice_id: str | None
    company_id: str | None
    customer_id: str | None
    latest_charge_id: str | None
    payment_method_id: str | None
    last_error_code: str | None
    last_decline_code: str | None
    created: datetime | None
    idempotency_key: str | None = None
    replayed: bool = False
    client_secret: str | None = field(default=None, repr=False)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, idempotency_key: str | None = None, replayed: bool = False
    ) -> PaymentIntentInfo:
        currency = normalize_currency(str(data["currency"]))
        metadata = data.get("metadata") or {}
        error = data.get("last_payment_error") or {}
        return cls(
            id=str(data["id"]),
            status=str(data["status"]),
            amount=from_minor_units(int(data["amount"]), currency),
            amount_received=from_minor_units(int(data.get("amount_received") or 0), currency),
            currency=currency,
            invoice_id=metadata.get("invoice_id"),
            company_id=metadata.get("company_id"),
            customer_id=_id(data.get("customer")),
            latest_charge_id=_id(data.get("latest_charge")),
            payment_method_id=_id(data.get("payment_method")),
            last_error_code=error.get("code"),
            last_decline_code=error.get("decline_code"),
            created=from_unix(data.get("created")),
            idempotency_key=idempotency_key,
            replayed=replayed,
            client_secret=data.get("client_secret"),
        )


@dataclass(frozen=True)
class FeeDetail:
    """One component of a fee (`type` is e.g. `stripe_fee`, `application_fee`, `tax`)."""

    type: str
    amount: Decimal
    currency: str
    description: str | None


@dataclass(frozen=True)
class BalanceTransactionInfo:
    """A balance transaction: what moved in the Stripe balance, the fee Stripe kept and the net."""

    id: str
    type: str
    source_id: str | None
    currency: str
    amount: Decimal
    fee: Decimal
    net: Decimal
    fee_details: tuple[FeeDetail, ...]
    status: str
    created: datetime | None
    available_on: datetime | None
    payment_intent_id: str | None = None

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, payment_intent_id: str | None = None
    ) -> BalanceTransactionInfo:
        currency = normalize_currency(str(data["currency"]))
        details = tuple(
            FeeDetail(
                type=str(d.get("type")),
                amount=from_minor_units(int(d["amount"]), str(d.get("currency") or currency)),
                currency=normalize_currency(str(d.get("currency") or currency)),
                description=d.get("description"),
            )
            for d in data.get("fee_details") or []
        )
        return cls(
            id=str(data["id"]),
            type=str(data.get("type")),
            source_id=_id(data.get("source")),
            currency=currency,
            amount=from_minor_units(int(data["amount"]), currency),
            fee=from_minor_units(int(data.get("fee") or 0), currency),
            net=from_minor_units(int(data["net"]), currency),
            fee_details=details,
            status=str(data.get("status")),
            created=from_unix(data.get("created")),
            available_on=from_unix(data.get("available_on")),
            payment_intent_id=payment_intent_id,
        )


@dataclass(frozen=True)
class RefundInfo:
    """A refund; `replayed` is True when this exact refund request had been made before."""

    id: str
    status: str
    amount: Decimal
    currency: str
    charge_id: str | None
    payment_intent_id: str | None
    balance_transaction_id: str | None
    reason: str | None
    refund_ref: str | None
    idempotency_key: str | None = None
    replayed: bool = False

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, idempotency_key: str | None = None, replayed: bool = False
    ) -> RefundInfo:
        currency = normalize_currency(str(data["currency"]))
        return cls(
            id=str(data["id"]),
            status=str(data.get("status")),
            amount=from_minor_units(int(data["amount"]), currency),
            currency=currency,
            charge_id=_id(data.get("charge")),
            payment_intent_id=_id(data.get("payment_intent")),
            balance_transaction_id=_id(data.get("balance_transaction")),
            reason=data.get("reason"),
            refund_ref=(data.get("metadata") or {}).get("refund_ref"),
            idempotency_key=idempotency_key,
            replayed=replayed,
        )


@dataclass(frozen=True)
class StripeEvent:
    """An event envelope: id, type, creation time and the whole event as a JSON-ready dict."""

    id: str
    type: str
    created: datetime
    livemode: bool
    payload: dict[str, Any]

    @property
    def data_object(self) -> dict[str, Any]:
        """`data.object`: the snapshot of the object the event is about."""
        data = self.payload.get("data") or {}
        obj = data.get("object") if isinstance(data, Mapping) else None
        return dict(obj) if isinstance(obj, Mapping) else {}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StripeEvent:
        created = from_unix(int(data["created"]))
        assert created is not None
        return cls(
            id=str(data["id"]),
            type=str(data["type"]),
            created=created,
            livemode=bool(data.get("livemode")),
            payload=dict(data),
        )
