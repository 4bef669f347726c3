"""A Stripe refund of an invoice payment -> a QBO RefundReceipt (money paid back to the customer).

One RefundReceipt per Stripe refund (`re_…`): one SalesItemLineDetail line for the refunded amount on the
refund item, paid from the account the payment was deposited to (the Stripe clearing account when set), so
the clearing account goes down by exactly what Stripe took back. Pure: the caller passes the QBO customer
id it looked up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from connectors.quickbooks.mapping_common import FAILED, MAP_IT, MappingError, money
from connectors.quickbooks.mapping_payment import deposit_account
from connectors.quickbooks.settings import QboRef, QuickBooksSettings
from sierra_core.db.models.app import Payment

__all__ = ["REFUND_ITEM_KEY", "RefundRefs", "StripeRefund", "refund_item", "refund_to_refund_receipt"]

REFUND_ITEM_KEY = "stripe_refund"  # settings.items key of the item refunds are booked to
_REF_NUM_LIMIT = 21
_NOTE_LIMIT = 4000


@dataclass(frozen=True, slots=True)
class StripeRefund:
    """One refund as Stripe reported it (amount in Decimal, the date it was made in the company's zone)."""

    id: str
    amount: Decimal
    refund_date: date
    charge_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RefundRefs:
    """The QBO customer the refund goes to, and the app invoice number (for the note)."""

    customer_id: str
    invoice_number: str | None = None


def refund_item(settings: QuickBooksSettings) -> QboRef:
    """The item refunds are booked to: `items["stripe_refund"]`, else `default_item`."""
    item = settings.items.get(REFUND_ITEM_KEY) or settings.default_item
    if item is None:
        raise MappingError(
            f"{FAILED}Stripe refunds need a QuickBooks item: map '{REFUND_ITEM_KEY}' in the items "
            f"settings (or set default_item). {MAP_IT}",
            code="unmapped_item",
        )
    return item


def refund_to_refund_receipt(
    refund: StripeRefund, payment: Payment, refs: RefundRefs, settings: QuickBooksSettings
) -> dict[str, Any]:
    """The QBO RefundReceipt body (create form) for one Stripe refund of `payment`."""
    if not refs.customer_id:
        raise MappingError(
            f"{FAILED}Stripe refund {refund.id} belongs to a customer that is not in QuickBooks yet. "
            "Push the customer first.",
            code="missing_reference",
        )
    if refund.amount <= 0:
        raise MappingError(f"{FAILED}Stripe refund {refund.id} has no positive amount.", code="invalid_value")
    amount = money(refund.amount)
    what = f"invoice #{refs.invoice_number}" if refs.invoice_number else "a payment"
    description = f"Stripe refund of {what}"
    note = [f"Stripe refund {refund.id}"]
    if refund.charge_id:
        note.append(f"charge {refund.charge_id}")
    if refund.reason:
        note.append(f"reason {refund.reason}")
    body: dict[str, Any] = {
        "CustomerRef": {"value": refs.customer_id},
        "TxnDate": refund.refund_date.isoformat(),
        "PaymentRefNum": refund.id[-_REF_NUM_LIMIT:],
        "DepositToAccountRef": deposit_account(payment, settings).as_ref(),
        "PrivateNote": ", ".join(note)[:_NOTE_LIMIT],
        "Line": [
            {
                "Amount": amount,
                "DetailType": "SalesItemLineDetail",
                "Description": description,
                "SalesItemLineDetail": {
                    "ItemRef": refund_item(settings).as_ref(),
                    "Qty": Decimal(1),
                    "UnitPrice": amount,
                    "TaxCodeRef": {"value": settings.tax.non_taxable},
                },
            }
        ],
    }
    if payment.method in settings.payment_methods:
        body["PaymentMethodRef"] = settings.payment_methods[payment.method].as_ref()
    return body
