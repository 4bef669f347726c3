"""Payments against AUTHORISED invoices: from or into a bank account (or one that takes payments), never
more than the amount due; the invoice is PAID when nothing is left. A payment is never edited: POST
`{"Status": "DELETED"}` reverses it (the invoice is AUTHORISED again with its amount due restored)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from sandbox.xero.saving import SaveContext, Saved, commit, refused
from sandbox.xero.totals import cents, decimal_of
from sandbox.xero.wire import BadRequest, ms_date, parse_date

__all__ = ["save_payment"]


def _invoice(ctx: SaveContext, given: Any, errors: list[str]) -> dict[str, Any] | None:
    if not isinstance(given, dict) or not (given.get("InvoiceID") or given.get("InvoiceNumber")):
        errors.append(
            "You must specify either an Invoice, CreditNote, Prepayment or Overpayment for the payment"
        )
        return None
    if given.get("InvoiceID"):
        found = ctx.org.docs["Invoices"].get(str(given["InvoiceID"]))
    else:
        found = ctx.org.find("Invoices", "InvoiceNumber", given["InvoiceNumber"])
    if found is None:
        errors.append("Invoice could not be found")
    return found


def _account(ctx: SaveContext, given: Any, errors: list[str]) -> dict[str, Any] | None:
    if not isinstance(given, dict) or not (given.get("AccountID") or given.get("Code")):
        errors.append("You must specify the Account (AccountID or Code) the payment is made from or to")
        return None
    account = ctx.org.account(code=given.get("Code"), account_id=given.get("AccountID"))
    if account is None:
        errors.append("Account could not be found")
    elif account["Type"] != "BANK" and not account.get("EnablePaymentsToAccount"):
        errors.append("Account type is invalid for making a payment to/from")
    return account


def _apply(invoice: dict[str, Any], payment_id: str, amount: Decimal, date_ms: str) -> None:
    paid = cents(Decimal(str(invoice.get("AmountPaid", 0))) + amount)
    invoice["AmountPaid"] = paid
    invoice["AmountDue"] = cents(Decimal(str(invoice["Total"])) - paid)
    listed = [p for p in invoice.get("Payments", []) if p["PaymentID"] != payment_id]
    if amount > 0:
        listed.append({"PaymentID": payment_id, "Date": date_ms, "Amount": amount})
    invoice["Payments"] = listed
    invoice["Status"] = "PAID" if invoice["AmountDue"] == 0 else "AUTHORISED"
    if invoice["Status"] == "PAID":
        invoice["FullyPaidOnDate"] = date_ms
    else:
        invoice.pop("FullyPaidOnDate", None)


def _delete(ctx: SaveContext, element: dict[str, Any]) -> Saved:
    payment = ctx.org.docs["Payments"].get(str(element["PaymentID"]))
    if payment is None or ctx.create_only:
        return refused(
            element, ["Payment could not be found" if payment is None else "POST deletes a payment"]
        )
    if set(element) - {"PaymentID", "Status"} or str(element.get("Status", "")).upper() != "DELETED":
        return refused(element, ["A payment cannot be edited; it can only be deleted (Status DELETED)"])
    if payment["Status"] == "DELETED":
        return Saved(copy.deepcopy(payment))
    invoice = ctx.org.docs["Invoices"][payment["Invoice"]["InvoiceID"]]
    _apply(invoice, payment["PaymentID"], -Decimal(str(payment["Amount"])), payment["Date"])
    invoice["UpdatedDateUTC"] = ctx.now_ms
    doc = copy.deepcopy(payment)
    doc["Status"] = "DELETED"
    return commit(ctx, "Payments", doc)


def save_payment(ctx: SaveContext, element: dict[str, Any]) -> Saved:
    if element.get("PaymentID"):
        return _delete(ctx, element)
    errors: list[str] = []
    invoice = _invoice(ctx, element.get("Invoice"), errors)
    account = _account(ctx, element.get("Account"), errors)
    amount = decimal_of(element.get("Amount"), "Amount", errors)
    try:
        day = parse_date(element["Date"], "Date") if element.get("Date") else ctx.today
    except BadRequest as err:
        errors.append(str(err))
        day = ctx.today
    if amount is None or amount <= 0:
        errors.append("The payment Amount must be greater than zero")
    if invoice is not None and invoice["Status"] != "AUTHORISED":
        errors.append("Payments can only be made against Authorised documents")
    elif invoice is not None and amount is not None and cents(amount) > Decimal(str(invoice["AmountDue"])):
        errors.append("Payment amount exceeds the amount outstanding on this document")
    if errors or invoice is None or account is None or amount is None:
        return refused(element, errors)
    amount = cents(amount)
    doc: dict[str, Any] = {
        "Date": ms_date(day),
        "Amount": amount,
        "BankAmount": amount,
        "CurrencyRate": Decimal(1),
        "Reference": str(element.get("Reference") or ""),
        "IsReconciled": bool(element.get("IsReconciled", False)),
        "Status": "AUTHORISED",
        "PaymentType": "ACCRECPAYMENT" if invoice["Type"] == "ACCREC" else "ACCPAYPAYMENT",
        "HasAccount": True,
        "HasValidationErrors": False,
        "Account": {"AccountID": account["AccountID"], "Code": account["Code"]},
        "Invoice": {
            "InvoiceID": invoice["InvoiceID"],
            "InvoiceNumber": invoice["InvoiceNumber"],
            "Type": invoice["Type"],
            "Contact": invoice["Contact"],
        },
    }
    saved = commit(ctx, "Payments", doc)
    _apply(invoice, doc["PaymentID"], amount, doc["Date"])
    invoice["UpdatedDateUTC"] = ctx.now_ms
    return saved
