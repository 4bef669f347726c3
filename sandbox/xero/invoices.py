"""Invoices (ACCREC sales, ACCPAY bills) with server-computed totals, and the status rules of Xero:

* created as DRAFT (default), SUBMITTED or AUTHORISED; an AUTHORISED one cannot go back to DRAFT/SUBMITTED;
* DELETED only from DRAFT or SUBMITTED; VOIDED only from AUTHORISED with nothing paid;
* PAID is reached by payments only; a PAID, VOIDED or DELETED invoice cannot be modified, and one with a
  payment cannot have its lines changed.

A line naming an ItemCode takes the item's sales (ACCREC) or purchase (ACCPAY) description, price and
account when it does not state them; its TaxType defaults to the account's."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from sandbox.xero.saving import SaveContext, Saved, commit, refused
from sandbox.xero.store import new_id
from sandbox.xero.totals import LINE_AMOUNT_TYPES, compute
from sandbox.xero.wire import BadRequest, ms_date, parse_date

__all__ = ["contact_for", "prepare_lines", "save_invoice"]

NOT_MODIFIABLE = "Invoice not of valid status for modification"
HAS_PAYMENTS = "This document cannot be edited as it has a payment or credit note allocated to it."
_CREATABLE = ("DRAFT", "SUBMITTED", "AUTHORISED")
_TEXT_FIELDS = ("Reference", "Url", "BrandingThemeID", "SentToContact", "ExpectedPaymentDate")


def contact_for(
    ctx: SaveContext, given: Any, errors: list[str], is_customer: bool | None
) -> dict[str, Any] | None:
    """The contact a document names by ContactID, or by Name (a new contact when none is called so)."""
    if not isinstance(given, dict) or not (given.get("ContactID") or given.get("Name")):
        errors.append("A Contact must be specified for this type of transaction")
        return None
    if given.get("ContactID"):
        contact = ctx.org.docs["Contacts"].get(str(given["ContactID"]))
        if contact is None:
            errors.append(f"The contact with ContactID {given['ContactID']} could not be found")
        return contact
    contact = ctx.org.find("Contacts", "Name", given["Name"])
    if contact is None:
        contact = {
            "ContactID": new_id(),
            "Name": str(given["Name"]).strip(),
            "ContactStatus": "ACTIVE",
            "Addresses": [],
            "Phones": [],
            "IsSupplier": False,
            "IsCustomer": False,
            "HasAttachments": False,
            "UpdatedDateUTC": ctx.now_ms,
        }
    if is_customer is not None and not errors:
        ctx.org.docs["Contacts"][contact["ContactID"]] = contact
        contact["IsCustomer" if is_customer else "IsSupplier"] = True
    return contact


def prepare_lines(
    ctx: SaveContext, lines: Any, sales: bool, strict: bool, errors: list[str]
) -> list[dict[str, Any]]:
    """Checked copies of the lines: items applied, accounts and tax types known (`strict`: every line
    needs an account, as an AUTHORISED document does)."""
    if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
        errors.append("LineItems must be a list of line items")
        return []
    prepared = []
    for raw in lines:
        line = copy.deepcopy(raw)
        line.setdefault("LineItemID", new_id())
        if line.get("ItemCode"):
            item = ctx.org.find("Items", "Code", line["ItemCode"])
            if item is None:
                errors.append(f"Item code '{line['ItemCode']}' is not valid")
            else:
                details = item.get("SalesDetails" if sales else "PurchaseDetails") or {}
                describe = item.get("Description" if sales else "PurchaseDescription") or item.get("Name")
                line.setdefault("Description", describe)
                if line.get("UnitAmount") is None and details.get("UnitPrice") is not None:
                    line["UnitAmount"] = Decimal(str(details["UnitPrice"]))
                for key in ("AccountCode", "TaxType"):
                    if not line.get(key) and details.get(key):
                        line[key] = details[key]
        code = line.get("AccountCode")
        account = ctx.org.account(code=str(code)) if code else None
        if (code and account is None) or (strict and not code):
            errors.append(f"Account code '{code or ''}' is not a valid code for this document.")
        tax_type = str(line.get("TaxType") or (account or {}).get("TaxType") or "NONE")
        if tax_type not in ctx.org.docs["TaxRates"]:
            errors.append(
                f"The TaxType code '{tax_type}' does not exist or cannot be used for this type of "
                "transaction."
            )
        line["TaxType"] = tax_type
        prepared.append(line)
    return prepared


def _existing(ctx: SaveContext, element: dict[str, Any], errors: list[str]) -> dict[str, Any] | None:
    invoice_id = element.get("InvoiceID")
    if invoice_id:
        found = ctx.org.docs["Invoices"].get(str(invoice_id))
        if found is None or ctx.create_only:
            errors.append(
                f"Invoice {invoice_id} could not be found"
                if found is None
                else "The invoice exists; POST updates it"
            )
        return found
    if not ctx.create_only and element.get("InvoiceNumber"):
        return ctx.org.find("Invoices", "InvoiceNumber", element["InvoiceNumber"])
    return None


def _status_problem(current: str | None, target: str, paid: Decimal) -> str | None:
    if current is None:
        return None if target in _CREATABLE else "Invoice not of valid status for creation"
    if current in ("PAID", "VOIDED", "DELETED") and target != current:
        return NOT_MODIFIABLE if current != "PAID" or target != "VOIDED" else HAS_PAYMENTS
    if target == "DELETED" and current not in ("DRAFT", "SUBMITTED"):
        return NOT_MODIFIABLE
    if target == "VOIDED" and current != "AUTHORISED":
        return NOT_MODIFIABLE
    if target == "VOIDED" and paid:
        return HAS_PAYMENTS
    if target == "PAID" and current != "PAID":
        return NOT_MODIFIABLE
    if current == "AUTHORISED" and target in ("DRAFT", "SUBMITTED"):
        return NOT_MODIFIABLE
    return None


def save_invoice(ctx: SaveContext, element: dict[str, Any]) -> Saved:
    errors: list[str] = []
    existing = _existing(ctx, element, errors)
    if errors:
        return refused(element, errors)
    current = str(existing["Status"]) if existing else None
    target = str(element.get("Status") or current or "DRAFT").upper()
    paid = Decimal(str(existing.get("AmountPaid", 0))) if existing else Decimal(0)
    problem = _status_problem(current, target, paid)
    if problem:
        return refused(element, [problem])
    if existing is not None and target in ("VOIDED", "DELETED"):
        doc = copy.deepcopy(existing)
        doc["Status"] = target
        if target == "VOIDED":
            doc["AmountDue"] = Decimal("0.00")
        return commit(ctx, "Invoices", doc)
    if current == "PAID":
        return Saved(copy.deepcopy(existing)) if existing else refused(element, [NOT_MODIFIABLE])
    doc = copy.deepcopy(existing) if existing else {"Payments": [], "AmountPaid": Decimal("0.00")}
    kind = str(element.get("Type") or doc.get("Type") or "").upper()
    if kind not in ("ACCREC", "ACCPAY"):
        errors.append("Type must be ACCREC (a sales invoice) or ACCPAY (a bill)")
    elif existing is not None and kind != existing["Type"]:
        errors.append("The Type of an invoice cannot be changed")
    amount_types = str(element.get("LineAmountTypes") or doc.get("LineAmountTypes") or "Exclusive")
    if amount_types not in LINE_AMOUNT_TYPES:
        errors.append(f"LineAmountTypes must be one of {', '.join(LINE_AMOUNT_TYPES)}")
    if paid and ("LineItems" in element or "LineAmountTypes" in element):
        errors.append(HAS_PAYMENTS)
    try:
        when = parse_date(element["Date"], "Date") if element.get("Date") else None
        due = parse_date(element["DueDate"], "DueDate") if element.get("DueDate") else None
    except BadRequest as err:
        errors.append(str(err))
        when = due = None
    lines = prepare_lines(
        ctx,
        element.get("LineItems", doc.get("LineItems", [])),
        kind == "ACCREC",
        target == "AUTHORISED",
        errors,
    )
    if target == "AUTHORISED" and not lines:
        errors.append("An AUTHORISED invoice needs at least one line item")
    number = str(element.get("InvoiceNumber") or doc.get("InvoiceNumber") or "")
    clash = ctx.org.find("Invoices", "InvoiceNumber", number) if number and kind == "ACCREC" else None
    if clash is not None and clash is not existing:
        errors.append("Invoice # must be unique.")
    totals = compute(lines, amount_types, ctx.org.tax_rate, errors)
    if totals.total < paid:
        errors.append(HAS_PAYMENTS)
    if errors:
        return refused(element, errors)
    contact = contact_for(ctx, element.get("Contact", doc.get("Contact")), errors, kind == "ACCREC")
    if contact is None:
        return refused(element, errors)
    day = when or (parse_date(doc["DateString"], "Date") if doc.get("DateString") else ctx.today)
    doc.update({k: element[k] for k in _TEXT_FIELDS if k in element})
    doc.update(
        {
            "Type": kind,
            "Status": target,
            "Contact": {"ContactID": contact["ContactID"], "Name": contact["Name"]},
            "LineAmountTypes": amount_types,
            "LineItems": lines,
            "Date": ms_date(day),
            "DateString": f"{day.isoformat()}T00:00:00",
            "InvoiceNumber": number or (ctx.org.next_number("INV") if kind == "ACCREC" else ""),
            "SubTotal": totals.sub_total,
            "TotalTax": totals.total_tax,
            "Total": totals.total,
            "AmountDue": totals.total - paid,
            "AmountCredited": Decimal("0.00"),
            "CurrencyCode": "NZD",
            "CurrencyRate": Decimal(1),
            "HasAttachments": bool(doc.get("HasAttachments")),
            "HasErrors": False,
            "IsDiscounted": any(line.get("DiscountRate") for line in lines),
        }
    )
    if due is not None:
        doc["DueDate"], doc["DueDateString"] = ms_date(due), f"{due.isoformat()}T00:00:00"
    return commit(ctx, "Invoices", doc)
