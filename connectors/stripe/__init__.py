"""Stripe: payment intents for invoices, refunds, fees and event backfill through the official SDK.

Never imports prefect. Credentials come in as plain values (see `blocks/stripe.py` for where they live).
"""

from connectors.stripe.errors import (
    CardDeclinedError,
    StripeApiError,
    StripeAuthenticationError,
    StripeConflictError,
    StripeIdempotencyError,
    StripeInvalidRequestError,
    StripeNetworkError,
    StripeNotFoundError,
    StripePermissionError,
    StripeRateLimitError,
    StripeServerError,
)
from connectors.stripe.gateway import (
    EVENT_RETENTION,
    RetryPolicy,
    StripeConfigError,
    StripeGateway,
    backfill_start,
    confirm_key,
    payment_intent_key,
    refund_key,
)
from connectors.stripe.money import AmountError, from_minor_units, to_minor_units
from connectors.stripe.types import (
    BalanceTransactionInfo,
    FeeDetail,
    InvoicePayment,
    PaymentIntentInfo,
    RefundInfo,
    StripeEvent,
)

__all__ = [
    "EVENT_RETENTION",
    "AmountError",
    "BalanceTransactionInfo",
    "CardDeclinedError",
    "FeeDetail",
    "InvoicePayment",
    "PaymentIntentInfo",
    "RefundInfo",
    "RetryPolicy",
    "StripeApiError",
    "StripeAuthenticationError",
    "StripeConfigError",
    "StripeConflictError",
    "StripeEvent",
    "StripeGateway",
    "StripeIdempotencyError",
    "StripeInvalidRequestError",
    "StripeNetworkError",
    "StripeNotFoundError",
    "StripePermissionError",
    "StripeRateLimitError",
    "StripeServerError",
    "backfill_start",
    "confirm_key",
    "from_minor_units",
    "payment_intent_key",
    "refund_key",
    "to_minor_units",
]
