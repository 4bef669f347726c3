"""Why a Stripe event could not be applied, marked retryable or not (the inbox retries either way until
its attempt limit; `retryable` tells a flow whether a task retry can help)."""

from __future__ import annotations

from sierra_core.errors import SierraError

__all__ = ["EventShapeError", "StripeEventError", "UnknownInvoiceError"]


class StripeEventError(SierraError):
    """A Stripe event that cannot be applied as it is; the message says what to do."""


class UnknownInvoiceError(StripeEventError):
    """The event's payment names no invoice of this app (metadata missing, or the invoice is gone).

    Not retryable: record the payment by hand, or restore the invoice and reprocess the event
    (`sierra-sync run process-stripe-events --param all_pending=true`)."""


class EventShapeError(StripeEventError):
    """The event lacks a field processing needs (a truncated or foreign payload)."""
