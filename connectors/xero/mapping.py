"""The app's rows ↔ Xero documents: contacts, invoices (ACCREC; ACCPAY for bills) with their lines,
payments, expenses (SPEND bank transactions) and projects (tracking options). Decimal only.

Xero computes each line's amount (quantity * unit amount, to the cent) and its tax (per line, to the cent);
the app stores the invoice's tax as one figure. A line whose amount is not its quantity * unit price, or a
tax that per-line rounding cannot reach within a cent a line, is refused with a `MappingError` saying what
differs (never silently rounded); a difference within that tolerance is sent as the last taxable line's
TaxAmount (Xero accepts a line's tax as given), so Xero's totals equal the app's to the cent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from connectors.xero.codec import parse_date
from connectors.xero.money import CENT, LineAmountTypes, cents, line_amount, line_tax, totals
from connectors.xero.settings import XeroSettings
from sierra_core.db.models import Contact, Expense, Invoice, InvoiceLineItem, Payment, Project
from sierra_core.errors import SierraError

__all__ = [
    "MappingError",
    "contact_from_xero",
    "contact_to_xero",
    "expense_to_xero",
    "invoice_from_xero",
    "invoice_to_xero",
    "payment_from_xero",
    "payment_to_xero",
    "project_option",
]

_OPTION_MAX = 100
_STATUS_FROM_XERO = {
    "DRAFT": "draft",
    "SUBMITTED": "draft",
    "PAID": "paid",
    "VOIDED": "void",
    "DELETED": "void",
}


class MappingError(SierraError):
    """An app row cannot be written to Xero as it is; the message says what to fix."""


def _money(value: Any) -> Decimal:
    if isinstance(value, float):
        raise TypeError("Xero money must be parsed as Decimal, never float")
    return Decimal(str(value if value is not None else "0"))


def _clip(text: str | None, limit: int) -> str | None:
    return text[:limit] if text else None


# --------------------------------------------------------------------------- contacts


def contact_to_xero(contact: Contact, xero_id: str | None = None) -> dict[str, Any]:
    """A Xero Contact from an app contact (customer or vendor: Xero marks IsCustomer/IsSupplier itself from
    the transactions)."""
    doc: dict[str, Any] = {"Name": contact.display_name[:255]}
    if xero_id:
        doc["ContactID"] = xero_id
    optional = {
        "FirstName": _clip(contact.given_name, 255),
        "LastName": _clip(contact.family_name, 255),
        "EmailAddress": _clip(contact.email, 255),
        "DefaultCurrency": contact.currency,
    }
    doc |= {k: v for k, v in optional.items() if v}
    if contact.phone:
        doc["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": contact.phone[:50]}]
    if any((contact.bill_line1, contact.bill_city, contact.bill_postal_code)):
        address = {
            "AddressType": "POBOX",
            "AddressLine1": contact.bill_line1,
            "AddressLine2": contact.bill_line2,
            "City": contact.bill_city,
            "Region": contact.bill_region,
            "PostalCode": contact.bill_postal_code,
            "Country": contact.bill_country,
        }
        doc["Addresses"] = [{k: v for k, v in address.items() if v}]
    doc["ContactStatus"] = "ACTIVE" if contact.is_active and contact.deleted_at is None else "ARCHIVED"
    return doc


def contact_from_xero(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The app's contact columns from a Xero Contact."""
    postal: Mapping[str, Any] = next(
        (a for a in doc.get("Addresses") or [] if a.get("AddressType") == "POBOX" and a.get("AddressLine1")),
        {},
    )
    phone: Mapping[str, Any] = next(
        (p for p in doc.get("Phones") or [] if p.get("PhoneType") == "DEFAULT"), {}
    )
    number = " ".join(str(phone[k]) for k in ("PhoneAreaCode", "PhoneNumber") if phone.get(k))
    vendor = bool(doc.get("IsSupplier")) and not doc.get("IsCustomer")
    return {
        "display_name": str(doc.get("Name") or ""),
        "given_name": doc.get("FirstName") or None,
        "family_name": doc.get("LastName") or None,
        "email": doc.get("EmailAddress") or None,
        "phone": number or None,
        "contact_type": "vendor" if vendor else "customer",
        "is_active": doc.get("ContactStatus", "ACTIVE") == "ACTIVE",
        "bill_line1": postal.get("AddressLine1") or None,
        "bill_line2": postal.get("AddressLine2") or None,
        "bill_city": postal.get("City") or None,
        "bill_region": postal.get("Region") or None,
        "bill_postal_code": postal.get("PostalCode") or None,
        "bill_country": postal.get("Country") or None,
    }


# --------------------------------------------------------------------------- projects


def project_option(project: Project) -> str:
    """The tracking option naming `project` (Xero allows 100 characters)."""
    name = f"{project.code} {project.name}" if project.code else project.name
    return name.strip()[:_OPTION_MAX]


def _tracking(settings: XeroSettings, project: Project | None) -> list[dict[str, str]]:
    if project is None:
        return []
    return [{"Name": settings.project_tracking_category, "Option": project_option(project)}]


# --------------------------------------------------------------------------- invoices


def _line(line: InvoiceLineItem, settings: XeroSettings, taxable: bool, account: str) -> dict[str, Any]:
    amount = line_amount(line.quantity, line.unit_price)
    if amount != line.amount:
        raise MappingError(
            f"line {line.line_number}: quantity {line.quantity} * unit price {line.unit_price} is {amount}, "
            f"but the line says {line.amount}; correct the line in the app"
        )
    doc: dict[str, Any] = {
        "Description": line.description[:4000],
        "Quantity": line.quantity,
        "UnitAmount": line.unit_price,
        "LineAmount": amount,
        "AccountCode": account,
        "TaxType": settings.taxable_tax_type if taxable else settings.exempt_tax_type,
    }
    if line.item_code:
        doc["ItemCode"] = line.item_code
    return doc


def _taxes(invoice: Invoice, docs: list[dict[str, Any]], flags: list[bool], kind: LineAmountTypes) -> None:
    """Set each taxable line's TaxAmount so they add up to the invoice's tax (see the module docstring)."""
    rate = invoice.tax_rate * 100
    taxable = [i for i, flag in enumerate(flags) if flag]
    for i, flag in enumerate(flags):
        docs[i]["TaxAmount"] = line_tax(docs[i]["LineAmount"], rate, kind) if flag else Decimal("0.00")
    computed = sum((docs[i]["TaxAmount"] for i in taxable), Decimal("0.00"))
    difference = cents(invoice.tax_amount) - computed
    if difference and (not taxable or abs(difference) > CENT * len(taxable)):
        raise MappingError(
            f"invoice {invoice.invoice_number}: its tax is {invoice.tax_amount}, but {rate}% on each taxable "
            f"line gives {computed}; correct the tax rate or the taxable lines in the app"
        )
    if difference:
        docs[taxable[-1]]["TaxAmount"] += difference


def invoice_to_xero(
    invoice: Invoice,
    contact_xero_id: str,
    settings: XeroSettings,
    *,
    invoice_type: str = "ACCREC",
    project: Project | None = None,
    xero_id: str | None = None,
) -> dict[str, Any]:
    """A Xero Invoice (ACCREC; ACCPAY for a vendor bill) from an app invoice and its lines."""
    if invoice.status == "void":
        raise MappingError(f"invoice {invoice.invoice_number} is void: void it in Xero instead of writing it")
    if not invoice.lines:
        raise MappingError(f"invoice {invoice.invoice_number} has no lines; Xero needs at least one")
    flags = [line.taxable and invoice.tax_rate > 0 for line in invoice.lines]
    kind: LineAmountTypes = "Exclusive" if any(flags) else "NoTax"
    tracking = _tracking(settings, project)
    docs = [
        _line(line, settings, flag, settings.sales_account)
        for line, flag in zip(invoice.lines, flags, strict=True)
    ]
    for line_doc in docs:
        if tracking:
            line_doc["Tracking"] = tracking
    _taxes(invoice, docs, flags, kind)
    expected = totals(((d["LineAmount"], Decimal(0)) for d in docs), "NoTax").total
    if expected != cents(invoice.subtotal):
        raise MappingError(
            f"invoice {invoice.invoice_number}: its lines add up to {expected}, but its subtotal is "
            f"{invoice.subtotal}; correct the invoice in the app"
        )
    doc: dict[str, Any] = {
        "Type": invoice_type,
        "Contact": {"ContactID": contact_xero_id},
        "Date": invoice.issue_date,
        "LineAmountTypes": kind,
        "LineItems": docs,
        "CurrencyCode": invoice.currency,
        "Status": "DRAFT" if invoice.status == "draft" else "AUTHORISED",
    }
    doc["InvoiceNumber" if invoice_type == "ACCREC" else "Reference"] = invoice.invoice_number
    if invoice.due_date:
        doc["DueDate"] = invoice.due_date
    if invoice.memo and invoice_type == "ACCREC":
        doc["Reference"] = invoice.memo[:255]
    if xero_id:
        doc["InvoiceID"] = xero_id
    return doc


def invoice_from_xero(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The app's invoice columns and lines from a Xero Invoice (money as Decimal)."""
    status = str(doc.get("Status", ""))
    paid = _money(doc.get("AmountPaid"))
    app_status = _STATUS_FROM_XERO.get(status, "partially_paid" if paid > 0 else "sent")
    lines = [
        {
            "line_number": n,
            "description": str(item.get("Description") or ""),
            "quantity": _money(item.get("Quantity", 1)),
            "unit_price": _money(item.get("UnitAmount")),
            "amount": _money(item.get("LineAmount")),
            "item_code": item.get("ItemCode") or None,
            "taxable": _money(item.get("TaxAmount")) != 0,
        }
        for n, item in enumerate(doc.get("LineItems") or [], start=1)
    ]
    issue: date | None = parse_date(doc.get("DateString") or doc.get("Date"))
    return {
        "invoice_number": str(doc.get("InvoiceNumber") or doc.get("Reference") or ""),
        "issue_date": issue,
        "due_date": parse_date(doc.get("DueDateString") or doc.get("DueDate")),
        "status": app_status,
        "currency": str(doc.get("CurrencyCode") or "USD"),
        "subtotal": _money(doc.get("SubTotal")),
        "tax_amount": _money(doc.get("TotalTax")),
        "total": _money(doc.get("Total")),
        "balance": _money(doc.get("AmountDue")),
        "lines": lines,
    }


# --------------------------------------------------------------------------- payments and expenses


def payment_to_xero(payment: Payment, invoice_xero_id: str, settings: XeroSettings) -> dict[str, Any]:
    """A Xero Payment of `payment` against the Xero invoice, into the settings' bank account."""
    doc: dict[str, Any] = {
        "Invoice": {"InvoiceID": invoice_xero_id},
        "Account": {"Code": settings.bank_account},
        "Date": payment.payment_date,
        "Amount": cents(payment.amount),
    }
    if payment.reference_number:
        doc["Reference"] = payment.reference_number[:255]
    return doc


def payment_from_xero(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The app's payment columns from a Xero Payment."""
    status = str(doc.get("Status", "AUTHORISED"))
    return {
        "amount": _money(doc.get("Amount")),
        "payment_date": parse_date(doc.get("Date")),
        "reference_number": doc.get("Reference") or None,
        "status": "void" if status == "DELETED" else "succeeded",
        "invoice_xero_id": (doc.get("Invoice") or {}).get("InvoiceID"),
    }


def expense_to_xero(
    expense: Expense,
    settings: XeroSettings,
    *,
    contact_xero_id: str | None = None,
    project: Project | None = None,
) -> dict[str, Any]:
    """A SPEND bank transaction for an expense: one line of its whole amount (tax not split out)."""
    line: dict[str, Any] = {
        "Description": (expense.description or f"{expense.category} — {expense.vendor_name}")[:4000],
        "Quantity": Decimal(1),
        "UnitAmount": cents(expense.amount),
        "LineAmount": cents(expense.amount),
        "AccountCode": settings.expense_account(expense.category),
        "TaxType": settings.exempt_tax_type,
    }
    tracking = _tracking(settings, project)
    if tracking:
        line["Tracking"] = tracking
    contact = {"ContactID": contact_xero_id} if contact_xero_id else {"Name": expense.vendor_name[:255]}
    doc: dict[str, Any] = {
        "Type": "SPEND",
        "Contact": contact,
        "BankAccount": {"Code": settings.bank_account},
        "Date": expense.expense_date,
        "LineAmountTypes": "NoTax",
        "LineItems": [line],
        "CurrencyCode": expense.currency,
    }
    if expense.reference_number:
        doc["Reference"] = expense.reference_number[:255]
    return doc


def totals_of(lines: Sequence[Mapping[str, Any]], kind: LineAmountTypes, rate: Decimal) -> dict[str, Decimal]:
    """Xero's SubTotal, TotalTax and Total of `lines` (their LineAmount) at `rate` percent."""
    found = totals(((_money(line["LineAmount"]), rate) for line in lines), kind)
    return {"SubTotal": found.sub_total, "TotalTax": found.total_tax, "Total": found.total}
