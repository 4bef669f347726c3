"""App invoices <-> QBO Invoices.

Lines: an app line with an item code (or a description listed in `settings.items`) is a
SalesItemLineDetail line; a negative line without an item code is the invoice's discount
(DiscountLineDetail; several are merged into one, QBO allows one). Tax: see `QboTaxCodes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.quickbooks.mapping_common import (
    CENT,
    FAILED,
    MAP_IT,
    ZERO,
    MappingError,
    is_voided,
    money,
    plain_number,
    qbo_date,
    qbo_meta,
    ref_value,
    sparse_update,
)
from connectors.quickbooks.settings import QboRef, QuickBooksSettings
from sierra_core.db.models.app import Invoice, InvoiceLineItem

__all__ = [
    "DISCOUNT_DESCRIPTION",
    "InvoiceRefs",
    "invoice_status",
    "invoice_to_qbo",
    "invoice_update",
    "qbo_invoice_to_values",
    "resolve_item",
]

DISCOUNT_DESCRIPTION = "Discount"
_MEMO_LIMIT = 1000  # CustomerMemo
_ITEM_LINE = "SalesItemLineDetail"
_DISCOUNT_LINE = "DiscountLineDetail"


@dataclass(frozen=True, slots=True)
class InvoiceRefs:
    """What the flow looked up before mapping an invoice: the QBO id of its customer (never a fallback)."""

    customer_id: str
    customer_name: str | None = None


def _label(invoice: Invoice) -> str:
    return f"Invoice #{invoice.invoice_number}"


def _line_label(line: InvoiceLineItem) -> str:
    text = (line.description or "").strip().splitlines()
    label = text[0] if text else (line.item_code or f"line {line.line_number}")
    return label if len(label) <= 100 else label[:99] + "…"


def _unmapped_item(invoice: Invoice, line: InvoiceLineItem) -> str:
    """The unmapped-item error: the line as people see it (its description) and the item code to map."""
    code = (line.item_code or "").strip()
    described = bool((line.description or "").strip())
    if code and described:
        what, fix = (
            f"'{_line_label(line)}' (item code {code})",
            f"Map item code {code} in the integration settings.",
        )
    elif code:
        what, fix = f"code {code}", f"Map item code {code} in the integration settings."
    else:
        label = _line_label(line)
        what = f"'{label}' (no item code)"
        fix = (
            f"Give the line an item code, or map its description '{label}' in the integration settings."
            if described
            else MAP_IT
        )
    return f"{FAILED}{_label(invoice)} uses item {what}, which is not mapped to a QuickBooks item. {fix}"


def resolve_item(line: InvoiceLineItem, settings: QuickBooksSettings) -> QboRef | None:
    """The QBO Item of an app line: by item code, then by description, then the default item."""
    for key in (line.item_code, (line.description or "").strip()):
        if key and key in settings.items:
            return settings.items[key]
    return settings.default_item


def _is_discount(line: InvoiceLineItem) -> bool:
    return not line.item_code and money(line.amount, f"line '{_line_label(line)}' amount") < 0


def _item_line(invoice: Invoice, line: InvoiceLineItem, settings: QuickBooksSettings) -> dict[str, Any]:
    item = resolve_item(line, settings)
    if item is None:
        raise MappingError(_unmapped_item(invoice, line), code="unmapped_item")
    amount = money(line.amount, f"line '{_line_label(line)}' amount")
    qty = plain_number(line.quantity, "quantity")
    price = plain_number(line.unit_price, "unit_price")
    if (qty * price).quantize(CENT, rounding=ROUND_HALF_UP) != amount:
        raise MappingError(
            f"{FAILED}{_label(invoice)}, line '{_line_label(line)}': amount {amount} is not quantity {qty} "
            f"x unit price {price}, which QuickBooks rejects. Correct the line in the app.",
            code="invalid_value",
        )
    tax_code = settings.tax.non_taxable if line.taxable is False else settings.tax.taxable
    out: dict[str, Any] = {
        "DetailType": _ITEM_LINE,
        _ITEM_LINE: {
            "ItemRef": item.as_ref(),
            "TaxCodeRef": {"value": tax_code},
            "Qty": qty,
            "UnitPrice": price,
        },
        "Amount": amount,
    }
    if line.description and line.description.strip():
        out["Description"] = line.description
    return out


def invoice_to_qbo(invoice: Invoice, refs: InvoiceRefs, settings: QuickBooksSettings) -> dict[str, Any]:
    """The QBO Invoice body (create form) of an app invoice and its lines.

    Raises MappingError (one actionable line) for an unmapped item, a missing customer reference, no lines,
    a line whose amount is not quantity x unit price, or lines that do not add up to the subtotal.
    """
    if not refs.customer_id:
        raise MappingError(
            f"{FAILED}{_label(invoice)} has no QuickBooks customer yet. Push its customer first.",
            code="missing_reference",
        )
    money(invoice.total, "total")  # QuickBooks computes the total; a sub-cent one must still be refused
    lines = sorted(invoice.lines, key=lambda li: li.line_number)
    if not lines:
        raise MappingError(
            f"{FAILED}{_label(invoice)} has no lines; QuickBooks needs at least one. Add a line in the app.",
            code="invalid_value",
        )
    qbo_lines = [_item_line(invoice, li, settings) for li in lines if not _is_discount(li)]
    discount = -sum((money(li.amount) for li in lines if _is_discount(li)), ZERO)
    if discount:
        qbo_lines.append(
            {"DetailType": _DISCOUNT_LINE, "Amount": discount, _DISCOUNT_LINE: {"PercentBased": False}}
        )
    line_total = sum((money(li.amount) for li in lines), ZERO)
    if line_total != money(invoice.subtotal, "subtotal"):
        raise MappingError(
            f"{FAILED}{_label(invoice)}: its lines add up to {line_total} but its subtotal is "
            f"{money(invoice.subtotal)}. Correct the invoice in the app.",
            code="invalid_value",
        )

    customer_ref = {"value": refs.customer_id}
    if refs.customer_name:
        customer_ref["name"] = refs.customer_name
    body: dict[str, Any] = {
        "CustomerRef": customer_ref,
        "DocNumber": invoice.invoice_number,
        "TxnDate": invoice.issue_date.isoformat(),
    }
    if invoice.due_date is not None:
        body["DueDate"] = invoice.due_date.isoformat()
    if invoice.terms and invoice.terms in settings.terms:
        body["SalesTermRef"] = settings.terms[invoice.terms].as_ref()
    if invoice.memo and invoice.memo.strip():
        if len(invoice.memo) > _MEMO_LIMIT:
            raise MappingError(
                f"{FAILED}{_label(invoice)} has a memo longer than QuickBooks allows ({_MEMO_LIMIT} "
                "characters). Shorten it in the app.",
                code="invalid_value",
            )
        body["CustomerMemo"] = {"value": invoice.memo}
    body["Line"] = qbo_lines
    if settings.tax.sales_tax_code is not None:
        body["TxnTaxDetail"] = {"TxnTaxCodeRef": settings.tax.sales_tax_code.as_ref()}
    else:
        body["TxnTaxDetail"] = {"TotalTax": money(invoice.tax_amount, "tax")}
    return body


def invoice_update(
    invoice: Invoice,
    refs: InvoiceRefs,
    settings: QuickBooksSettings,
    *,
    qbo_id: str,
    sync_token: str,
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The sparse update of a linked invoice: only what differs from `current` (the QBO invoice as read),
    or every mapped field without it. `Line` is only resent when the lines changed, because resending it
    replaces every line (new line Ids)."""
    return sparse_update(
        invoice_to_qbo(invoice, refs, settings), qbo_id=qbo_id, sync_token=sync_token, current=current
    )


# ---------------------------------------------------------------- pull


def invoice_status(total: Decimal, balance: Decimal, *, voided: bool, current: str | None = None) -> str:
    """App status from QBO amounts: void, paid (nothing owed), partially_paid, else open: the app's draft
    or sent is kept, a new invoice is sent (QuickBooks has no drafts)."""
    if voided:
        return "void"
    if balance <= 0:
        return "paid"
    if balance < total:
        return "partially_paid"
    return current if current in ("draft", "sent") else "sent"


def _flat_lines(lines: Any) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    for line in lines if isinstance(lines, list) else []:
        if not isinstance(line, Mapping):
            continue
        group = line.get("GroupLineDetail")
        if line.get("DetailType") == "GroupLineDetail" and isinstance(group, Mapping):
            out.extend(_flat_lines(group.get("Line")))
        elif line.get("DetailType") in (_ITEM_LINE, _DISCOUNT_LINE):
            out.append(line)
    return out


def _item_code(
    item_id: str | None, settings: QuickBooksSettings, current: InvoiceLineItem | None
) -> str | None:
    if item_id is None:
        return None
    if current is not None and current.item_code:
        known = resolve_item(current, settings)
        if known is not None and known.value == item_id:
            return current.item_code  # same item as the app line: keep the app's code
    codes = [code for code, ref in settings.items.items() if ref.value == item_id]
    return codes[0] if len(codes) == 1 else None


def _pulled_line(
    number: int, line: Mapping[str, Any], settings: QuickBooksSettings, current: InvoiceLineItem | None
) -> dict[str, Any]:
    amount = money(line.get("Amount", 0), "Line.Amount")
    if line.get("DetailType") == _DISCOUNT_LINE:
        discount = -amount
        return {
            "line_number": number,
            "description": DISCOUNT_DESCRIPTION,
            "quantity": Decimal("1"),
            "unit_price": discount,
            "amount": discount,
            "item_code": None,
            "taxable": False,
        }
    detail = line.get(_ITEM_LINE)
    detail = detail if isinstance(detail, Mapping) else {}
    item_ref = detail.get("ItemRef")
    item_name = item_ref.get("name") if isinstance(item_ref, Mapping) else None
    qty = plain_number(detail["Qty"], "Qty") if detail.get("Qty") is not None else Decimal("1")
    if detail.get("UnitPrice") is not None:
        price = plain_number(detail["UnitPrice"], "UnitPrice")
    else:
        price = amount if qty in (0, 1) else plain_number(amount / qty)
    description = line.get("Description")
    if not isinstance(description, str) or not description.strip():
        description = item_name if isinstance(item_name, str) and item_name else "Item"
    return {
        "line_number": number,
        "description": description,
        "quantity": qty,
        "unit_price": price,
        "amount": amount,
        "item_code": _item_code(ref_value(detail, "ItemRef"), settings, current),
        "taxable": ref_value(detail, "TaxCodeRef") != settings.tax.non_taxable,
    }


def _tax_rate(detail: Mapping[str, Any]) -> Decimal | None:
    tax_lines = detail.get("TaxLine")
    if not isinstance(tax_lines, list):
        return None
    percents = [
        line["TaxLineDetail"]["TaxPercent"]
        for line in tax_lines
        if isinstance(line, Mapping)
        and isinstance(line.get("TaxLineDetail"), Mapping)
        and line["TaxLineDetail"].get("TaxPercent") is not None
    ]
    if not percents:
        return None
    return plain_number(sum((plain_number(p, "TaxPercent") for p in percents), Decimal(0)) / 100)


def _term_name(qbo_invoice: Mapping[str, Any], settings: QuickBooksSettings) -> str | None:
    term_id = ref_value(qbo_invoice, "SalesTermRef")
    if term_id is None:
        return None
    for name, ref in settings.terms.items():
        if ref.value == term_id:
            return name
    ref = qbo_invoice["SalesTermRef"]
    return str(ref["name"]) if isinstance(ref.get("name"), str) else None


def qbo_invoice_to_values(
    qbo_invoice: Mapping[str, Any],
    settings: QuickBooksSettings | None = None,
    *,
    current: Invoice | None = None,
) -> dict[str, Any]:
    """Invoice column values from a full QBO Invoice (read, query `select *`, CDC), plus `lines`: a list of
    InvoiceLineItem column dicts (item and discount lines in QBO's order; subtotal lines dropped).

    Money is Decimal to the cent. subtotal = TotalAmt - TotalTax (net of any discount, which becomes a
    negative "Discount" line, so lines add up to the subtotal as the app requires). tax_rate is given only
    when QBO computed the tax (TaxLine percentages). With `current` (the linked app invoice), an open
    invoice keeps draft/sent and lines that still use the same QBO item keep their app item code; a line
    whose QBO item is not mapped (or is mapped from several codes) gets item_code None.

    A voided invoice (PrivateNote "Voided", zero total) gives only status void, balance 0.00, voided_at
    and the header: QBO zeroes the amounts, the app keeps what was invoiced. A CDC delete marker is not an
    invoice: check `is_deleted` first.
    """
    settings = settings or QuickBooksSettings()
    inv = qbo_invoice
    if inv.get("sparse") is True:
        raise ValueError("a partial QBO invoice (column query) cannot be pulled; read the full invoice")
    meta = qbo_meta(inv)
    doc = inv.get("DocNumber")
    values: dict[str, Any] = {
        # QBO companies can turn custom transaction numbers off; the app needs a number.
        "invoice_number": str(doc) if doc not in (None, "") else f"Q{meta.id}",
        "issue_date": qbo_date(inv.get("TxnDate"), "TxnDate"),
        "due_date": qbo_date(inv["DueDate"], "DueDate") if inv.get("DueDate") else None,
        "terms": _term_name(inv, settings),
    }
    memo = inv.get("CustomerMemo")
    values["memo"] = memo.get("value") if isinstance(memo, Mapping) else None
    if ref_value(inv, "CurrencyRef"):
        values["currency"] = ref_value(inv, "CurrencyRef")
    if is_voided(inv):
        values.update(status="void", balance=ZERO, voided_at=meta.last_updated)
        return values

    tax_detail = inv.get("TxnTaxDetail")
    tax_detail = tax_detail if isinstance(tax_detail, Mapping) else {}
    total = money(inv.get("TotalAmt", 0), "TotalAmt")
    tax = money(tax_detail.get("TotalTax", 0), "TotalTax")
    balance = money(inv.get("Balance", total), "Balance")
    app_lines: Sequence[InvoiceLineItem] = (
        sorted(current.lines, key=lambda li: li.line_number) if current else ()
    )
    lines = [
        _pulled_line(i, line, settings, app_lines[i - 1] if i <= len(app_lines) else None)
        for i, line in enumerate(_flat_lines(inv.get("Line")), start=1)
    ]
    values.update(
        subtotal=total - tax,
        tax_amount=tax,
        total=total,
        balance=balance,
        status=invoice_status(total, balance, voided=False, current=current.status if current else None),
        lines=lines,
    )
    rate = _tax_rate(tax_detail)
    if rate is not None:
        values["tax_rate"] = rate
    return values
