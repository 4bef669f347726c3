"""Sales forms: Invoice, SalesReceipt, Estimate, CreditMemo, RefundReceipt, with server-computed lines, tax
and totals.

The arithmetic follows the real invoice capture: item lines get string Ids and LineNums, a SubTotalLineDetail
line is appended, the discount line gains DiscountAccountRef, tax is a percentage of the taxable lines before
the discount (ApplyTaxAfterDiscount false), TotalAmt = subtotal - discount + tax, Balance = TotalAmt - paid.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.quickbooks import faults
from sandbox.quickbooks.entities import Ctx, EntitySpec, LineIds, register
from sandbox.quickbooks.names import account_ref, address, lookup, ref_id, value_only
from sandbox.quickbooks.store import Record
from sandbox.quickbooks.txnbase import (
    SYSTEM_KEYS,
    ZERO,
    amount_of,
    common_header,
    customer_balance,
    home_amount,
    line_id,
    lines_in,
    prev_line_ids,
    voided_note,
)
from sandbox.quickbooks.wire import QboFault, money, plain, to_decimal, txn_date

__all__: list[str] = []

CENT = Decimal("0.01")
# Sales forms that may name no customer (Intuit: only Line, plus DepositToAccountRef for a refund).
_CUSTOMER_OPTIONAL = frozenset({"SalesReceipt", "RefundReceipt"})
# Attributes QBO computes: whatever a client sends for them is ignored.
_SALES_READ_ONLY = ("TotalAmt", "HomeTotalAmt", "Balance", "HomeBalance", "RemainingCredit", "InvoiceLink")


# ---------------------------------------------------------------- sales forms


def _custom_fields(ctx: Ctx, given: Any) -> list[dict[str, Any]]:
    values: dict[str, Any] = {}
    if isinstance(given, list):
        for entry in given:
            if isinstance(entry, dict) and entry.get("DefinitionId") is not None:
                values[str(entry["DefinitionId"])] = entry
    out = []
    for definition in ctx.realm.custom_fields:
        entry = {k: definition[k] for k in ("DefinitionId", "Name", "Type") if k in definition}
        value = values.get(str(definition.get("DefinitionId")))
        if value is not None and value.get("StringValue") not in (None, ""):
            entry["StringValue"] = value["StringValue"]
        out.append(entry)
    return out


def _is_zero(value: Any) -> bool:
    """True for a numeric zero (`0`, `0.0`, `"0"`); False for anything else, None included."""
    if value is None or isinstance(value, bool):
        return False
    try:
        return to_decimal(value) == 0
    except QboFault:
        return False


def _next_docnumber(ctx: Ctx, entity: str) -> str:
    highest = 1000
    for rec in ctx.realm.live(entity):
        doc = rec.data.get("DocNumber")
        if isinstance(doc, str) and doc.isdigit():
            highest = max(highest, int(doc))
    return str(highest + 1)


def _sales_item_line(
    ctx: Ctx, line: dict[str, Any], num: int, line_id: str
) -> tuple[dict[str, Any], Decimal, bool]:
    detail_in = line.get("SalesItemLineDetail") or {}
    if not isinstance(detail_in, dict):
        raise faults.invalid_property("Property Name:Line.SalesItemLineDetail must be an object")
    item_ref = detail_in.get("ItemRef")
    if item_ref is None:
        item = next((r for r in ctx.realm.live("Item") if r.data.get("Name") == "Services"), None)
        if item is None:
            raise faults.required("Line.SalesItemLineDetail.ItemRef")
    else:
        item = lookup(ctx, "Item", item_ref, "Line.SalesItemLineDetail.ItemRef")
    qty = detail_in.get("Qty")
    price = detail_in.get("UnitPrice")
    unpriced = _is_zero(qty) and _is_zero(price)  # SDKs' defaults next to an Amount: QBO keeps the Amount
    if line.get("Amount") is None:
        if qty is None or price is None:
            raise faults.required("Line.Amount")
        amount = money(to_decimal(qty) * to_decimal(price))
    else:
        amount = amount_of(line)
    if (
        qty is not None
        and price is not None
        and not unpriced
        and money(to_decimal(qty) * to_decimal(price)) != amount
    ):
        raise QboFault(
            "6070",
            "A business validation error has occurred while processing your request",
            f"Business Validation Error: Amount is not equal to UnitPrice * Qty. Supplied value:{amount}",
            "",
        )
    detail: dict[str, Any] = {}
    if detail_in.get("ServiceDate") is not None:
        detail["ServiceDate"] = txn_date(detail_in["ServiceDate"], "Line.SalesItemLineDetail.ServiceDate")
    detail["ItemRef"] = {"value": item.data["Id"], "name": item.data.get("Name", "")}
    if detail_in.get("ClassRef") is not None:
        cls = lookup(ctx, "Class", detail_in["ClassRef"], "Line.SalesItemLineDetail.ClassRef")
        detail["ClassRef"] = {"value": cls.data["Id"], "name": cls.data.get("Name", "")}
    if price is not None:
        detail["UnitPrice"] = plain(price, "UnitPrice")
    if qty is not None:
        detail["Qty"] = plain(qty, "Qty")
    if isinstance(item.data.get("IncomeAccountRef"), dict):
        detail["ItemAccountRef"] = copy.deepcopy(item.data["IncomeAccountRef"])
    tax_code = detail_in.get("TaxCodeRef")
    code = (
        ref_id(tax_code, "TaxCodeRef")
        if tax_code is not None
        else ("TAX" if item.data.get("Taxable") else "NON")
    )
    detail["TaxCodeRef"] = {"value": code}
    if isinstance(item.data.get("TaxClassificationRef"), dict):
        detail["TaxClassificationRef"] = {"value": item.data["TaxClassificationRef"].get("value")}
    for key, value in detail_in.items():
        if key not in detail and key not in ("TaxCodeRef",):
            detail[key] = value
    out: dict[str, Any] = {"Id": line_id, "LineNum": num}
    if line.get("Description") is not None:
        out["Description"] = line["Description"]
    out["Amount"] = amount
    out["DetailType"] = "SalesItemLineDetail"
    out["SalesItemLineDetail"] = detail
    for key, value in line.items():
        if key not in out and key not in ("LineNum", "Id"):
            out[key] = value
    return out, amount, code != "NON"


def _tax(
    ctx: Ctx, given: Any, taxable: Decimal, discount: Decimal, subtotal: Decimal, after_discount: bool
) -> tuple[dict[str, Any], Decimal]:
    given = given if isinstance(given, dict) else {}
    code_ref = given.get("TxnTaxCodeRef")
    if code_ref is None:
        total = money(given.get("TotalTax", 0), "TotalTax")
        return {"TotalTax": total}, total
    code = lookup(ctx, "TaxCode", code_ref, "TxnTaxDetail.TxnTaxCodeRef")
    base = taxable
    if after_discount and discount and subtotal:
        base = money(taxable - discount * taxable / subtotal)
    tax_lines = []
    total = ZERO
    rate_list = code.data.get("SalesTaxRateList", {}).get("TaxRateDetail", [])
    for detail in rate_list:
        rate_rec = ctx.realm.get("TaxRate", str(detail.get("TaxRateRef", {}).get("value")))
        if rate_rec is None:
            continue
        rate = to_decimal(rate_rec.data.get("RateValue", 0))
        amount = money((base * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP))
        total += amount
        tax_lines.append(
            {
                "Amount": amount,
                "DetailType": "TaxLineDetail",
                "TaxLineDetail": {
                    "TaxRateRef": {"value": rate_rec.data["Id"]},
                    "PercentBased": True,
                    "TaxPercent": plain(rate),
                    "NetAmountTaxable": money(base),
                },
            }
        )
    if given.get("TotalTax") is not None and "TaxLine" not in given:
        # An explicit TotalTax overrides the computed one (US companies without automated sales tax).
        override = money(given["TotalTax"], "TotalTax")
        if override != money(total) and not tax_lines:
            total = override
    return {
        "TxnTaxCodeRef": {"value": code.data["Id"]},
        "TotalTax": money(total),
        "TaxLine": tax_lines,
    }, total


def _sales_form(kind: str) -> Any:
    """A compute function for one sales form type."""

    def compute(ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds) -> dict[str, Any]:
        prev_data = prev.data if prev else {}
        customer: Record | None = None
        if body.get("CustomerRef") is not None:
            customer = lookup(ctx, "Customer", body["CustomerRef"], "CustomerRef")
        elif kind not in _CUSTOMER_OPTIONAL:
            raise faults.required("CustomerRef")
        lines = lines_in(body)
        prev_ids = prev_line_ids(prev)
        out: dict[str, Any] = dict(body)
        if kind == "Invoice":
            for key in (
                "AllowIPNPayment",
                "AllowOnlinePayment",
                "AllowOnlineCreditCardPayment",
                "AllowOnlineACHPayment",
            ):
                out.setdefault(key, False)
        out["CustomField"] = _custom_fields(ctx, body.get("CustomField"))
        if body.get("DocNumber") in (None, ""):
            out["DocNumber"] = prev_data.get("DocNumber") or _next_docnumber(ctx, kind)
        common_header(ctx, body, prev, out)
        # LinkedTxn: payments are maintained by the sandbox; others (Estimate, ...) come from the client.
        links = [
            dict(x)
            for x in body.get("LinkedTxn") or []
            if isinstance(x, dict) and x.get("TxnType") != "Payment"
        ]
        links += [dict(x) for x in prev_data.get("LinkedTxn", []) if x.get("TxnType") == "Payment"]
        out["LinkedTxn"] = links
        # Lines.
        item_lines: list[dict[str, Any]] = []
        discount_line: dict[str, Any] | None = None
        subtotal = taxable = ZERO
        num = 0
        for line in lines:
            detail_type = line.get("DetailType")
            if not detail_type:
                raise faults.required("Line.DetailType")
            if detail_type == "SalesItemLineDetail":
                num += 1
                built, amount, is_taxable = _sales_item_line(ctx, line, num, line_id(line, prev_ids, ids))
                item_lines.append(built)
                subtotal += amount
                taxable += amount if is_taxable else ZERO
            elif detail_type == "DescriptionOnly":
                num += 1
                desc = {"Id": line_id(line, prev_ids, ids), "LineNum": num}
                desc.update({k: v for k, v in line.items() if k not in ("Id", "LineNum")})
                item_lines.append(desc)
            elif detail_type == "DiscountLineDetail":
                discount_line = line
            elif detail_type == "SubTotalLineDetail":
                continue
            else:
                raise faults.invalid_property(
                    f"Property Name:Line.DetailType value {detail_type} is not supported"
                )
        built_lines = list(item_lines)
        ids.take()  # the subtotal line takes an id it never shows
        built_lines.append(
            {"Amount": money(subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
        )
        discount = ZERO
        if discount_line is not None:
            ids.take()
            d_in = discount_line.get("DiscountLineDetail") or {}
            percent_based = bool(d_in.get("PercentBased", False))
            detail: dict[str, Any] = {"PercentBased": percent_based}
            if percent_based:
                pct = to_decimal(d_in.get("DiscountPercent", 0), "DiscountPercent")
                detail["DiscountPercent"] = plain(pct)
                discount = money(subtotal * pct / 100)
            else:
                discount = amount_of(discount_line)
            acct = account_ref(ctx, d_in.get("DiscountAccountRef"), "DiscountAccountRef", "Discounts given")
            if acct is not None:
                detail["DiscountAccountRef"] = acct
            built_lines.append(
                {"Amount": money(discount), "DetailType": "DiscountLineDetail", "DiscountLineDetail": detail}
            )
        out["Line"] = built_lines
        after = bool(body.get("ApplyTaxAfterDiscount", False))
        out["TxnTaxDetail"], tax = _tax(ctx, body.get("TxnTaxDetail"), taxable, discount, subtotal, after)
        if customer is not None:
            out["CustomerRef"] = {"value": customer.data["Id"], "name": customer.data.get("DisplayName", "")}
        for slot in ("BillAddr", "ShipAddr"):
            if body.get(slot) is not None:
                out[slot] = address(ctx, body[slot], prev_data.get(slot))
            elif customer is not None and isinstance(customer.data.get(slot), dict) and slot not in prev_data:
                out[slot] = copy.deepcopy(customer.data[slot])
        if "BillAddr" in out or "ShipAddr" in out:
            out["FreeFormAddress"] = False
        if kind in ("Invoice", "SalesReceipt", "Estimate") and ctx.realm.company_addr:
            out["ShipFromAddr"] = address(ctx, ctx.realm.company_addr, prev_data.get("ShipFromAddr"))
        if kind == "Invoice" and body.get("DueDate") is None:
            out["DueDate"] = (date.fromisoformat(out["TxnDate"]) + timedelta(days=30)).isoformat()
        for key in ("DueDate", "ShipDate", "ExpirationDate"):
            if body.get(key) is not None:
                out[key] = txn_date(body[key], key)
        total = money(subtotal - discount + tax)
        out["TotalAmt"] = total
        home_amount(ctx, out, "TotalAmt", "HomeTotalAmt")
        out["ApplyTaxAfterDiscount"] = after
        out.setdefault("PrintStatus", "NeedToPrint")
        out.setdefault("EmailStatus", "NotSet")
        for key in ("DepositToAccountRef", "PaymentMethodRef", "SalesTermRef"):
            if body.get(key) is not None:
                out[key] = value_only(body[key], key)
        if kind == "Invoice":
            paid = ZERO
            if prev_data:
                paid = to_decimal(prev_data.get("TotalAmt", 0)) - to_decimal(prev_data.get("Balance", 0))
            if paid > total:
                raise faults.business("The invoice total cannot be less than the payments applied to it")
            out["Balance"] = money(total - paid)
            home_amount(ctx, out, "Balance", "HomeBalance")
            out.setdefault("TaxExemptionRef", {})
        elif kind in ("SalesReceipt", "RefundReceipt"):
            out["Balance"] = 0
            if kind == "SalesReceipt" and "DepositToAccountRef" not in out:
                acct = account_ref(ctx, None, "DepositToAccountRef", "Undeposited Funds")
                if acct is not None:
                    out["DepositToAccountRef"] = {"value": acct["value"]}
            if kind == "RefundReceipt" and "DepositToAccountRef" not in out:
                raise faults.required("DepositToAccountRef")
        elif kind == "CreditMemo":
            out["Balance"] = total
            out["RemainingCredit"] = total
        elif kind == "Estimate":
            out.setdefault("TxnStatus", "Pending")
        return out

    return compute


def _void_sales(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Voided sales form: amounts zeroed, lines kept with Amount 0 and Qty 0, PrivateNote "Voided"."""
    out = dict(data)
    lines = []
    for line in data.get("Line", []):
        if line.get("DetailType") != "SalesItemLineDetail":
            continue
        zeroed = dict(line)
        zeroed["Amount"] = 0
        detail = dict(zeroed.get("SalesItemLineDetail", {}))
        detail.pop("UnitPrice", None)
        detail["Qty"] = 0
        zeroed["SalesItemLineDetail"] = detail
        lines.append(zeroed)
    out["Line"] = lines
    out["TxnTaxDetail"] = {"TotalTax": 0}
    for key in ("TotalAmt", "HomeTotalAmt", "Balance", "HomeBalance"):
        if key in out:
            out[key] = 0
    out["PrivateNote"] = voided_note(data.get("PrivateNote"))
    return out


def _refuse_if_paid(ctx: Ctx, data: dict[str, Any]) -> None:
    if any(x.get("TxnType") == "Payment" for x in data.get("LinkedTxn", [])):
        raise faults.business(
            "This transaction is linked to a payment. Delete or void the payment first, then try again."
        )


def _invoice_after(ctx: Ctx, entity_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    for data in (old, new):
        if data and isinstance(data.get("CustomerRef"), dict):
            customer_balance(ctx, str(data["CustomerRef"]["value"]))


_SYS = SYSTEM_KEYS
_SALES_HEAD = (
    "CustomField",
    "DocNumber",
    "TxnDate",
    "DepartmentRef",
    "CurrencyRef",
    "ExchangeRate",
    "PrivateNote",
)
_SALES_BODY = (
    "LinkedTxn",
    "Line",
    "TxnTaxDetail",
    "CustomerRef",
    "CustomerMemo",
    "BillAddr",
    "ShipAddr",
    "FreeFormAddress",
    "ShipFromAddr",
    "ClassRef",
    "SalesTermRef",
    "DueDate",
    "ShipDate",
    "TotalAmt",
    "HomeTotalAmt",
    "ApplyTaxAfterDiscount",
    "PrintStatus",
    "EmailStatus",
    "BillEmail",
    "Balance",
    "HomeBalance",
    "RemainingCredit",
    "DepositToAccountRef",
    "PaymentMethodRef",
    "PaymentRefNum",
    "TxnStatus",
    "TaxExemptionRef",
)
_INVOICE_HEAD = (
    "AllowIPNPayment",
    "AllowOnlinePayment",
    "AllowOnlineCreditCardPayment",
    "AllowOnlineACHPayment",
)

for _kind in ("Invoice", "SalesReceipt", "Estimate", "CreditMemo", "RefundReceipt"):
    register(
        EntitySpec(
            name=_kind,
            order=(*(_INVOICE_HEAD if _kind == "Invoice" else ()), *_SYS, *_SALES_HEAD, *_SALES_BODY),
            compute=_sales_form(_kind),
            deletable=True,
            voidable=_kind in ("Invoice", "SalesReceipt"),
            void_by_update=_kind == "SalesReceipt",
            read_only=_SALES_READ_ONLY,
            void=_void_sales,
            docnumber_unique=True,
            last_modified_by=True,
            total_count=_kind in ("Invoice", "Estimate"),
            sparse_empty=("LinkedTxn", "Line"),
            sparse_id_only=("BillAddr", "ShipAddr", "ShipFromAddr"),
            after_write=_invoice_after if _kind == "Invoice" else None,
            before_remove=_refuse_if_paid if _kind == "Invoice" else None,
        )
    )
