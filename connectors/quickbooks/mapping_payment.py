"""App payments <-> QBO Payments (applied to invoices through LinkedTxn)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connectors.quickbooks.mapping_common import (
    FAILED,
    MappingError,
    is_voided,
    money,
    qbo_date,
    ref_value,
    sparse_update,
)
from connectors.quickbooks.settings import QboRef, QuickBooksSettings
from sierra_core.db.models.app import Payment

__all__ = [
    "PAYMENT_REF_NUM_LIMIT",
    "PaymentRefs",
    "deposit_account",
    "payment_applications",
    "payment_ref_num",
    "payment_to_qbo",
    "payment_update",
    "qbo_payment_to_values",
]

PAYMENT_REF_NUM_LIMIT = 21
_NOTE_LIMIT = 4000
_PUSHABLE = ("succeeded", "partially_refunded", "refunded")


@dataclass(frozen=True, slots=True)
class PaymentRefs:
    """What the flow looked up before mapping a payment: the QBO ids of its customer and of the invoice it
    pays (None: an unapplied payment, a credit on the customer's account)."""

    customer_id: str
    invoice_id: str | None
    customer_name: str | None = None


def _label(payment: Payment) -> str:
    ref = payment_ref_num(payment)
    return f"Payment {ref}" if ref else f"Payment of {payment.amount} on {payment.payment_date}"


def payment_ref_num(payment: Payment) -> str | None:
    """PaymentRefNum for a payment: its reference number, else its Stripe charge or payment intent id, cut
    to QBO's 21 characters by keeping the end (where Stripe ids differ). Use it for find-before-create."""
    for candidate in (payment.reference_number, payment.stripe_charge_id, payment.stripe_payment_intent_id):
        if candidate and candidate.strip():
            text = candidate.strip()
            return text[-PAYMENT_REF_NUM_LIMIT:]
    return None


def deposit_account(payment: Payment, settings: QuickBooksSettings) -> QboRef:
    """Stripe-collected payments go to the Stripe clearing account when one is set, the rest to deposit_to."""
    stripe = bool(payment.stripe_payment_intent_id or payment.stripe_charge_id)
    if stripe and settings.accounts.stripe_clearing is not None:
        return settings.accounts.stripe_clearing
    return settings.accounts.deposit_to


def _note(payment: Payment) -> str | None:
    parts = []
    ref = (payment.reference_number or "").strip()
    if ref and len(ref) > PAYMENT_REF_NUM_LIMIT:
        parts.append(f"Reference {ref}")
    if payment.stripe_charge_id:
        parts.append(f"Stripe charge {payment.stripe_charge_id}")
    elif payment.stripe_payment_intent_id:
        parts.append(f"Stripe payment {payment.stripe_payment_intent_id}")
    if payment.notes and payment.notes.strip():
        parts.append(payment.notes.strip())
    note = ". ".join(parts)
    return note[:_NOTE_LIMIT] or None


def payment_to_qbo(payment: Payment, refs: PaymentRefs, settings: QuickBooksSettings) -> dict[str, Any]:
    """The QBO Payment body (create form): TotalAmt, one Line applying the whole amount to the invoice
    (`LinkedTxn` TxnType Invoice), TxnDate, PaymentRefNum, PaymentMethodRef (when the method is mapped) and
    DepositToAccountRef. Only collected payments map; pending or failed ones raise MappingError."""
    if not refs.customer_id:
        raise MappingError(
            f"{FAILED}{_label(payment)} has no QuickBooks customer yet. Push its customer first.",
            code="missing_reference",
        )
    if payment.status not in _PUSHABLE:
        raise MappingError(
            f"{FAILED}{_label(payment)} is {payment.status}; only collected payments go to QuickBooks. "
            "Sync it once it has succeeded.",
            code="invalid_value",
        )
    amount = money(payment.amount)
    customer_ref = {"value": refs.customer_id}
    if refs.customer_name:
        customer_ref["name"] = refs.customer_name
    body: dict[str, Any] = {
        "CustomerRef": customer_ref,
        "TotalAmt": amount,
        "TxnDate": payment.payment_date.isoformat(),
    }
    if (ref_num := payment_ref_num(payment)) is not None:
        body["PaymentRefNum"] = ref_num
    if payment.method in settings.payment_methods:
        body["PaymentMethodRef"] = settings.payment_methods[payment.method].as_ref()
    body["DepositToAccountRef"] = deposit_account(payment, settings).as_ref()
    if (note := _note(payment)) is not None:
        body["PrivateNote"] = note
    if refs.invoice_id:
        body["Line"] = [{"Amount": amount, "LinkedTxn": [{"TxnId": refs.invoice_id, "TxnType": "Invoice"}]}]
    else:
        body["Line"] = []
    return body


def payment_update(
    payment: Payment,
    refs: PaymentRefs,
    settings: QuickBooksSettings,
    *,
    qbo_id: str,
    sync_token: str,
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The sparse update of a linked payment (see `sparse_update`)."""
    return sparse_update(
        payment_to_qbo(payment, refs, settings), qbo_id=qbo_id, sync_token=sync_token, current=current
    )


# ---------------------------------------------------------------- pull


def payment_applications(qbo_payment: Mapping[str, Any]) -> list[tuple[str, Decimal]]:
    """(QBO invoice id, amount applied) for each invoice a QBO payment pays, in line order."""
    out: list[tuple[str, Decimal]] = []
    lines = qbo_payment.get("Line")
    for line in lines if isinstance(lines, list) else []:
        if not isinstance(line, Mapping):
            continue
        for txn in line.get("LinkedTxn") or []:
            if isinstance(txn, Mapping) and txn.get("TxnType") == "Invoice" and txn.get("TxnId"):
                out.append((str(txn["TxnId"]), money(line.get("Amount", 0), "Line.Amount")))
    return out


def _method(qbo_payment: Mapping[str, Any], settings: QuickBooksSettings, current: Payment | None) -> str:
    method_id = ref_value(qbo_payment, "PaymentMethodRef")
    if current is not None and method_id is not None:
        known = settings.payment_methods.get(current.method)
        if known is not None and known.value == method_id:
            return current.method
    methods = [m for m, ref in settings.payment_methods.items() if ref.value == method_id]
    if len(methods) == 1:
        return methods[0]
    if current is not None and current.method not in settings.payment_methods:
        return current.method  # QBO knows nothing better than the app (e.g. ach, unmapped)
    return "other"


def qbo_payment_to_values(
    qbo_payment: Mapping[str, Any],
    settings: QuickBooksSettings | None = None,
    *,
    current: Payment | None = None,
) -> dict[str, Any]:
    """Payment column values from a full QBO Payment: amount (TotalAmt), payment_date, reference_number,
    method (reverse of `settings.payment_methods`; `current` keeps an unmapped app method), currency,
    status. The customer and invoices are QBO ids: `ref_value(p, "CustomerRef")` and
    `payment_applications(p)`, which the flow turns into app ids through its links.

    A voided payment gives status void without an amount (QBO zeroes it; the app keeps what was paid).
    """
    settings = settings or QuickBooksSettings()
    p = qbo_payment
    if p.get("sparse") is True:
        raise ValueError("a partial QBO payment (column query) cannot be pulled; read the full payment")
    values: dict[str, Any] = {
        "payment_date": qbo_date(p.get("TxnDate"), "TxnDate"),
        "reference_number": str(p["PaymentRefNum"]) if p.get("PaymentRefNum") else None,
        "method": _method(p, settings, current),
    }
    if ref_value(p, "CurrencyRef"):
        values["currency"] = ref_value(p, "CurrencyRef")
    if is_voided(p):
        values["status"] = "void"
        return values
    values["amount"] = money(p.get("TotalAmt", 0), "TotalAmt")
    values["status"] = current.status if current is not None and current.status in _PUSHABLE else "succeeded"
    return values
