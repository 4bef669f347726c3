"""Transactions: Invoice, SalesReceipt, Estimate, CreditMemo, RefundReceipt (sales forms with server-computed
lines, tax and totals), Payment (LinkedTxn to invoices, moves their Balance), Purchase, Deposit, JournalEntry.

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
from sandbox.quickbooks.names import account_ref, address, currency, lookup, ref_id, value_only
from sandbox.quickbooks.store import Record
from sandbox.quickbooks.wire import QboFault, money, plain, to_decimal, txn_date

__all__: list[str] = []

CENT = Decimal("0.01")
ZERO = Decimal(0)


def _today(ctx: Ctx) -> str:
    return ctx.now.astimezone(ctx.realm.tz).date().isoformat()


def _lines_in(body: dict[str, Any]) -> list[dict[str, Any]]:
    lines = body.get("Line")
    if not isinstance(lines, list) or not lines:
        raise faults.required("Line")
    for line in lines:
        if not isinstance(line, dict):
            raise faults.invalid_property("Property Name:Line must be a list of objects")
    return lines


def _line_id(line: dict[str, Any], prev_ids: set[str], ids: LineIds) -> str:
    given = line.get("Id")
    if given is not None and str(given) in prev_ids:
        return str(given)
    return ids.take()


def _prev_line_ids(prev: Record | None) -> set[str]:
    if prev is None:
        return set()
    return {str(x["Id"]) for x in prev.data.get("Line", []) if isinstance(x, dict) and "Id" in x}


def _amount(line: dict[str, Any], element: str = "Line.Amount") -> Decimal:
    if line.get("Amount") is None:
        raise faults.required(element)
    return money(line["Amount"], "Amount")


def _common_header(ctx: Ctx, body: dict[str, Any], prev: Record | None, out: dict[str, Any]) -> None:
    """TxnDate (date only), CurrencyRef/ExchangeRate, DocNumber kept."""
    prev_data = prev.data if prev else {}
    if body.get("TxnDate") is not None:
        out["TxnDate"] = txn_date(body["TxnDate"], "TxnDate")
    else:
        out["TxnDate"] = prev_data.get("TxnDate", _today(ctx))
    if ctx.multicurrency:
        out["CurrencyRef"] = currency(ctx, body.get("CurrencyRef"), prev_data or None)
        out["ExchangeRate"] = plain(
            body.get("ExchangeRate", prev_data.get("ExchangeRate", 1)), "ExchangeRate"
        )
    else:
        out.pop("CurrencyRef", None)
        out.pop("ExchangeRate", None)


def _home(ctx: Ctx, out: dict[str, Any], amount_key: str, home_key: str) -> None:
    if ctx.multicurrency and amount_key in out:
        rate = to_decimal(out.get("ExchangeRate", 1))
        out[home_key] = money(to_decimal(out[amount_key]) * rate)


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
    if line.get("Amount") is None:
        if qty is None or price is None:
            raise faults.required("Line.Amount")
        amount = money(to_decimal(qty) * to_decimal(price))
    else:
        amount = _amount(line)
    if qty is not None and price is not None and money(to_decimal(qty) * to_decimal(price)) != amount:
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
        if body.get("CustomerRef") is None:
            raise faults.required("CustomerRef")
        customer = lookup(ctx, "Customer", body["CustomerRef"], "CustomerRef")
        lines = _lines_in(body)
        prev_ids = _prev_line_ids(prev)
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
        _common_header(ctx, body, prev, out)
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
                built, amount, is_taxable = _sales_item_line(ctx, line, num, _line_id(line, prev_ids, ids))
                item_lines.append(built)
                subtotal += amount
                taxable += amount if is_taxable else ZERO
            elif detail_type == "DescriptionOnly":
                num += 1
                desc = {"Id": _line_id(line, prev_ids, ids), "LineNum": num}
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
                discount = _amount(discount_line)
            acct = account_ref(ctx, d_in.get("DiscountAccountRef"), "DiscountAccountRef", "Discounts given")
            if acct is not None:
                detail["DiscountAccountRef"] = acct
            built_lines.append(
                {"Amount": money(discount), "DetailType": "DiscountLineDetail", "DiscountLineDetail": detail}
            )
        out["Line"] = built_lines
        after = bool(body.get("ApplyTaxAfterDiscount", False))
        out["TxnTaxDetail"], tax = _tax(ctx, body.get("TxnTaxDetail"), taxable, discount, subtotal, after)
        out["CustomerRef"] = {"value": customer.data["Id"], "name": customer.data.get("DisplayName", "")}
        for slot in ("BillAddr", "ShipAddr"):
            if body.get(slot) is not None:
                out[slot] = address(ctx, body[slot], prev_data.get(slot))
            elif isinstance(customer.data.get(slot), dict) and slot not in prev_data:
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
        _home(ctx, out, "TotalAmt", "HomeTotalAmt")
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
            _home(ctx, out, "Balance", "HomeBalance")
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
    note = data.get("PrivateNote")
    out["PrivateNote"] = f"Voided - {note}" if note and not str(note).startswith("Voided") else "Voided"
    return out


def _refuse_if_paid(ctx: Ctx, data: dict[str, Any]) -> None:
    if any(x.get("TxnType") == "Payment" for x in data.get("LinkedTxn", [])):
        raise faults.business(
            "This transaction is linked to a payment. Delete or void the payment first, then try again."
        )


def _customer_balance(ctx: Ctx, customer_id: str) -> None:
    """Keep Customer.Balance = open balance of its invoices (QBO does not bump the SyncToken for it)."""
    rec = ctx.realm.get("Customer", customer_id)
    if rec is None:
        return
    total = ZERO
    for inv in ctx.realm.live("Invoice"):
        if inv.data.get("CustomerRef", {}).get("value") == customer_id:
            total += to_decimal(inv.data.get("Balance", 0))
    rec.data["Balance"] = money(total)
    rec.data["BalanceWithJobs"] = money(total)
    ctx.save_quietly("Customer", customer_id)


def _invoice_after(ctx: Ctx, entity_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    for data in (old, new):
        if data and isinstance(data.get("CustomerRef"), dict):
            _customer_balance(ctx, str(data["CustomerRef"]["value"]))


# ---------------------------------------------------------------- payments


def _applications(data: dict[str, Any] | None) -> dict[str, Decimal]:
    apps: dict[str, Decimal] = {}
    if not data or data.get("status") == "Deleted":
        return apps
    for line in data.get("Line", []):
        for link in line.get("LinkedTxn", []):
            if link.get("TxnType") == "Invoice":
                key = str(link.get("TxnId"))
                apps[key] = apps.get(key, ZERO) + to_decimal(line.get("Amount", 0))
    return apps


def _name_value(name: str, value: str) -> dict[str, Any]:
    return {
        "name": "{http://schema.intuit.com/finance/v3}NameValue",
        "declaredType": "com.intuit.schema.finance.v3.NameValue",
        "scope": "javax.xml.bind.JAXBElement$GlobalScope",
        "value": {"Name": name, "Value": value},
        "nil": False,
        "globalScope": True,
        "typeSubstituted": False,
    }


def compute_payment(ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds) -> dict[str, Any]:
    """Payment: applied to invoices through Line[].LinkedTxn; LineEx shows each invoice's open balance."""
    if body.get("CustomerRef") is None:
        raise faults.required("CustomerRef")
    customer = lookup(ctx, "Customer", body["CustomerRef"], "CustomerRef")
    if body.get("TotalAmt") is None:
        raise faults.required("TotalAmt")
    total = money(body["TotalAmt"], "TotalAmt")
    prev_apps = _applications(prev.data if prev else None)
    out: dict[str, Any] = dict(body)
    out["CustomerRef"] = {"value": customer.data["Id"], "name": customer.data.get("DisplayName", "")}
    lines_out: list[dict[str, Any]] = []
    applied = ZERO
    raw_lines = body.get("Line") or []
    if not isinstance(raw_lines, list):
        raise faults.invalid_property("Property Name:Line must be a list")
    for line in raw_lines:
        if not isinstance(line, dict):
            raise faults.invalid_property("Property Name:Line must be a list of objects")
        amount = _amount(line)
        links = [x for x in line.get("LinkedTxn") or [] if isinstance(x, dict)]
        built: dict[str, Any] = {
            "Amount": amount,
            "LinkedTxn": [{"TxnId": str(x.get("TxnId")), "TxnType": x.get("TxnType")} for x in links],
        }
        for link in links:
            if link.get("TxnType") != "Invoice":
                continue
            inv = lookup(ctx, "Invoice", {"value": link.get("TxnId")}, "Line.LinkedTxn.TxnId")
            if inv.data.get("CustomerRef", {}).get("value") != customer.data["Id"]:
                raise faults.business("The invoice linked to this payment belongs to another customer")
            inv_id = str(inv.data["Id"])
            open_before = to_decimal(inv.data.get("Balance", 0)) + prev_apps.get(inv_id, ZERO)
            if amount > open_before:
                raise faults.business(
                    f"The payment amount {amount} applied to invoice {inv_id} "
                    f"exceeds its open balance {money(open_before)}"
                )
            any_ = [_name_value("txnId", inv_id), _name_value("txnOpenBalance", f"{money(open_before):.2f}")]
            if inv.data.get("DocNumber"):
                any_.append(_name_value("txnReferenceNumber", str(inv.data["DocNumber"])))
            built["LineEx"] = {"any": any_}
        applied += amount
        lines_out.append(built)
    if applied > total:
        raise faults.business("The amount applied to transactions exceeds the payment's TotalAmt")
    out["TotalAmt"] = total
    out["UnappliedAmt"] = money(total - applied)
    if body.get("DepositToAccountRef") is not None:
        lookup(ctx, "Account", body["DepositToAccountRef"], "DepositToAccountRef")
        out["DepositToAccountRef"] = value_only(body["DepositToAccountRef"], "DepositToAccountRef")
    else:
        acct = account_ref(ctx, None, "DepositToAccountRef", "Undeposited Funds")
        if acct is not None:
            out["DepositToAccountRef"] = {"value": acct["value"]}
    if body.get("PaymentMethodRef") is not None:
        out["PaymentMethodRef"] = value_only(body["PaymentMethodRef"], "PaymentMethodRef")
    out.setdefault("ProcessPayment", False)
    _common_header(ctx, body, prev, out)
    out["Line"] = lines_out
    return out


def _payment_after(ctx: Ctx, entity_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    """Move the linked invoices' Balance by the change in what this payment applies to them."""
    before, after = _applications(old), _applications(new)
    customers: set[str] = set()
    for inv_id in sorted(set(before) | set(after)):
        delta = after.get(inv_id, ZERO) - before.get(inv_id, ZERO)
        rec = ctx.realm.get("Invoice", inv_id)
        if rec is None:
            continue
        data = rec.data
        links = [
            x
            for x in data.get("LinkedTxn", [])
            if not (x.get("TxnType") == "Payment" and x.get("TxnId") == entity_id)
        ]
        if after.get(inv_id, ZERO) > 0:
            links.append({"TxnId": entity_id, "TxnType": "Payment"})
        changed = delta != 0 or links != data.get("LinkedTxn", [])
        data["LinkedTxn"] = links
        data["Balance"] = money(to_decimal(data.get("Balance", 0)) - delta)
        if "HomeBalance" in data:
            _home(ctx, data, "Balance", "HomeBalance")
        if changed:
            ctx.touch("Invoice", inv_id)
        customers.add(str(data.get("CustomerRef", {}).get("value")))
    for customer_id in customers:
        _customer_balance(ctx, customer_id)


def _void_payment(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    out["TotalAmt"] = 0
    out["UnappliedAmt"] = 0
    out["Line"] = []
    out["PrivateNote"] = "Voided"
    return out


# ---------------------------------------------------------------- expenses, deposits, journal entries


def compute_purchase(ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds) -> dict[str, Any]:
    """Purchase (expense, check, credit-card charge): AccountRef, PaymentType required; TotalAmt = lines."""
    if body.get("AccountRef") is None:
        raise faults.required("AccountRef")
    if body.get("PaymentType") not in ("Cash", "Check", "CreditCard"):
        raise faults.required("PaymentType")
    out: dict[str, Any] = dict(body)
    out["AccountRef"] = account_ref(ctx, body["AccountRef"], "AccountRef", None)
    prev_ids = _prev_line_ids(prev)
    lines_out: list[dict[str, Any]] = []
    total = ZERO
    for line in _lines_in(body):
        detail_type = line.get("DetailType")
        if detail_type not in ("AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail"):
            raise faults.required("Line.DetailType")
        amount = _amount(line)
        detail = dict(line.get(detail_type) or {})
        if detail_type == "AccountBasedExpenseLineDetail":
            if detail.get("AccountRef") is None:
                raise faults.required("Line.AccountBasedExpenseLineDetail.AccountRef")
            detail["AccountRef"] = account_ref(ctx, detail["AccountRef"], "AccountRef", None)
            detail.setdefault("BillableStatus", "NotBillable")
            detail["TaxCodeRef"] = value_only(detail.get("TaxCodeRef", {"value": "NON"}), "TaxCodeRef")
        else:
            item = lookup(ctx, "Item", detail.get("ItemRef"), "Line.ItemBasedExpenseLineDetail.ItemRef")
            detail["ItemRef"] = {"value": item.data["Id"], "name": item.data.get("Name", "")}
        built: dict[str, Any] = {"Id": _line_id(line, prev_ids, ids)}
        if line.get("Description") is not None:
            built["Description"] = line["Description"]
        built.update({"Amount": amount, "DetailType": detail_type, detail_type: detail})
        lines_out.append(built)
        total += amount
    out["Line"] = lines_out
    out["TotalAmt"] = money(total)
    _common_header(ctx, body, prev, out)
    if body.get("EntityRef") is not None:
        ref = dict(body["EntityRef"])
        out["EntityRef"] = ref
    return out


def compute_deposit(ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds) -> dict[str, Any]:
    """Deposit: DepositToAccountRef required; lines from accounts or linked payments; TotalAmt = lines."""
    if body.get("DepositToAccountRef") is None:
        raise faults.required("DepositToAccountRef")
    out: dict[str, Any] = dict(body)
    out["DepositToAccountRef"] = account_ref(ctx, body["DepositToAccountRef"], "DepositToAccountRef", None)
    prev_ids = _prev_line_ids(prev)
    lines_out: list[dict[str, Any]] = []
    total = ZERO
    for line in _lines_in(body):
        amount = _amount(line)
        built: dict[str, Any] = {
            "Id": _line_id(line, prev_ids, ids),
            "LineNum": len(lines_out) + 1,
            "Amount": amount,
        }
        if line.get("LinkedTxn"):
            built["LinkedTxn"] = line["LinkedTxn"]
        else:
            detail = dict(line.get("DepositLineDetail") or {})
            if detail.get("AccountRef") is None:
                raise faults.required("Line.DepositLineDetail.AccountRef")
            detail["AccountRef"] = account_ref(ctx, detail["AccountRef"], "AccountRef", None)
            built["DetailType"] = "DepositLineDetail"
            built["DepositLineDetail"] = detail
        lines_out.append(built)
        total += amount
    out["Line"] = lines_out
    out["TotalAmt"] = money(total)
    _common_header(ctx, body, prev, out)
    _home(ctx, out, "TotalAmt", "HomeTotalAmt")
    return out


def compute_journal_entry(
    ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds
) -> dict[str, Any]:
    """JournalEntry: debits must equal credits; line Ids start at "0"."""
    out: dict[str, Any] = dict(body)
    out.setdefault("Adjustment", False)
    prev_ids = _prev_line_ids(prev)
    lines_out: list[dict[str, Any]] = []
    debit = credit = ZERO
    for line in _lines_in(body):
        if line.get("DetailType") != "JournalEntryLineDetail":
            raise faults.required("Line.DetailType")
        amount = _amount(line)
        detail = dict(line.get("JournalEntryLineDetail") or {})
        posting = detail.get("PostingType")
        if posting not in ("Debit", "Credit"):
            raise faults.required("Line.JournalEntryLineDetail.PostingType")
        if detail.get("AccountRef") is None:
            raise faults.required("Line.JournalEntryLineDetail.AccountRef")
        detail["AccountRef"] = account_ref(ctx, detail["AccountRef"], "AccountRef", None)
        party = detail.get("Entity")
        if isinstance(party, dict) and party.get("Type") in ("Customer", "Vendor", "Employee"):
            who = lookup(
                ctx, str(party["Type"]), party.get("EntityRef"), "Line.JournalEntryLineDetail.Entity"
            )
            party = dict(party)
            party["EntityRef"] = {"value": who.data["Id"], "name": who.data.get("DisplayName", "")}
            detail["Entity"] = party
        built: dict[str, Any] = {"Id": _line_id(line, prev_ids, ids)}
        if line.get("Description") is not None:
            built["Description"] = line["Description"]
        built.update(
            {"Amount": amount, "DetailType": "JournalEntryLineDetail", "JournalEntryLineDetail": detail}
        )
        lines_out.append(built)
        if posting == "Debit":
            debit += amount
        else:
            credit += amount
    if debit != credit:
        raise faults.business("Journal Entry Must Balance. The total debits must equal the total credits.")
    if body.get("DocNumber") in (None, "") and prev is not None:
        out["DocNumber"] = prev.data.get("DocNumber")
    _common_header(ctx, body, prev, out)
    out["Line"] = lines_out
    out["TotalAmt"] = money(debit)
    _home(ctx, out, "TotalAmt", "HomeTotalAmt")
    return out


_SYS = ("domain", "sparse", "Id", "SyncToken", "MetaData")
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

register(
    EntitySpec(
        name="Payment",
        order=(
            "CustomerRef",
            "DepositToAccountRef",
            "PaymentMethodRef",
            "PaymentRefNum",
            "TotalAmt",
            "UnappliedAmt",
            "ProcessPayment",
            *_SYS,
            "TxnDate",
            "CurrencyRef",
            "ExchangeRate",
            "PrivateNote",
            "Line",
        ),
        compute=compute_payment,
        deletable=True,
        voidable=True,
        void=_void_payment,
        sparse_empty=("Line",),
        after_write=_payment_after,
    )
)
register(
    EntitySpec(
        name="Purchase",
        order=(
            "AccountRef",
            "PaymentType",
            "EntityRef",
            "Credit",
            "TotalAmt",
            "PurchaseEx",
            *_SYS,
            "CustomField",
            "DocNumber",
            "TxnDate",
            "CurrencyRef",
            "ExchangeRate",
            "PrivateNote",
            "Line",
        ),
        compute=compute_purchase,
        deletable=True,
        sparse_empty=("Line",),
    )
)
register(
    EntitySpec(
        name="Deposit",
        order=(
            "DepositToAccountRef",
            "TotalAmt",
            "HomeTotalAmt",
            *_SYS,
            "TxnDate",
            "CurrencyRef",
            "ExchangeRate",
            "PrivateNote",
            "Line",
        ),
        compute=compute_deposit,
        deletable=True,
        sparse_empty=("Line",),
    )
)
register(
    EntitySpec(
        name="JournalEntry",
        order=(
            "Adjustment",
            *_SYS,
            "DocNumber",
            "TxnDate",
            "CurrencyRef",
            "ExchangeRate",
            "PrivateNote",
            "Line",
            "TxnTaxDetail",
            "TotalAmt",
            "HomeTotalAmt",
        ),
        compute=compute_journal_entry,
        deletable=True,
        first_line_id=0,
        total_count=True,
        sparse_keep=("Adjustment", "Line"),
    )
)
