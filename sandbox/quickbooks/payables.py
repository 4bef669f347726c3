"""Accounts payable: Bill, VendorCredit and PurchaseOrder, with server-computed totals and balances.

A Bill's `Balance` is its total less what bill payments apply to it (billpayments.py moves it and adds the
`BillPaymentCheck` / `BillPaymentCreditCard` links); a VendorCredit's `Balance` is what is left to apply. The
vendor's `Balance` follows its open bills less its open credits, without a SyncToken change (as the
customer's does). A Bill linking a PurchaseOrder closes it (`POStatus` "Closed", a `Bill` link on the PO);
unlinking or deleting the bill reopens it.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sandbox.quickbooks import faults
from sandbox.quickbooks.entities import Ctx, EntitySpec, LineIds, register
from sandbox.quickbooks.exchange import default_rate
from sandbox.quickbooks.expenselines import expense_lines
from sandbox.quickbooks.names import address, lookup, value_only
from sandbox.quickbooks.store import Record
from sandbox.quickbooks.txnbase import SYSTEM_KEYS, ZERO, common_header, home_amount
from sandbox.quickbooks.wire import money, to_decimal, txn_date

__all__ = ["PAYMENT_LINKS", "ap_account", "vendor_balance", "vendor_header"]

PAYMENT_LINKS = ("BillPaymentCheck", "BillPaymentCreditCard")
_SYS = SYSTEM_KEYS


# ---------------------------------------------------------------- shared with billpayments.py


def ap_account(ctx: Ctx, given: Any) -> dict[str, Any]:
    """APAccountRef: the given account, which must be an Accounts Payable account (6000 otherwise), or the
    company's A/P account."""
    if given is None:
        found = next(
            (r for r in ctx.realm.live("Account") if r.data.get("AccountType") == "Accounts Payable"), None
        )
        if found is None:
            raise faults.required("APAccountRef")
    else:
        found = lookup(ctx, "Account", given, "APAccountRef")
        if found.data.get("AccountType") != "Accounts Payable":
            raise faults.business(
                f"APAccountRef must be an Accounts Payable account; {found.data.get('Name')} is "
                f"{found.data.get('AccountType')}"
            )
    return {
        "value": found.data["Id"],
        "name": found.data.get("FullyQualifiedName", found.data.get("Name", "")),
    }


def vendor_header(ctx: Ctx, body: dict[str, Any], prev: Record | None, out: dict[str, Any]) -> Record:
    """VendorRef (required, named), TxnDate, currency (the vendor's when not sent; another one is a 6000) and
    ExchangeRate (the company's rate for the date when not sent)."""
    if body.get("VendorRef") is None:
        raise faults.required("VendorRef")
    vendor = lookup(ctx, "Vendor", body["VendorRef"], "VendorRef")
    out["VendorRef"] = {"value": vendor.data["Id"], "name": vendor.data.get("DisplayName", "")}
    common_header(ctx, body, prev, out)
    if not ctx.multicurrency:
        return vendor
    own = vendor.data.get("CurrencyRef")
    if prev is None and body.get("CurrencyRef") is None and isinstance(own, dict):
        out["CurrencyRef"] = copy.deepcopy(own)
    if isinstance(own, dict) and out["CurrencyRef"].get("value") != own.get("value"):
        raise faults.business(
            f"The transaction currency {out['CurrencyRef'].get('value')} must be the vendor's currency "
            f"{own.get('value')}"
        )
    code = str(out["CurrencyRef"].get("value"))
    if code != ctx.realm.home_currency[0] and body.get("ExchangeRate") in (None, 0) and prev is None:
        out["ExchangeRate"] = default_rate(ctx, code, out["TxnDate"])
    return vendor


def vendor_balance(ctx: Ctx, vendor_id: str) -> None:
    """Vendor.Balance = open bills - unapplied vendor credits (no SyncToken change, as QBO does)."""
    rec = ctx.realm.get("Vendor", vendor_id)
    if rec is None:
        return
    total = ZERO
    for kind, sign in (("Bill", 1), ("VendorCredit", -1)):
        for txn in ctx.realm.live(kind):
            if txn.data.get("VendorRef", {}).get("value") == vendor_id:
                total += sign * to_decimal(txn.data.get("Balance", 0))
    rec.data["Balance"] = money(total)
    ctx.save_quietly("Vendor", vendor_id)


def _applied(prev: Record | None) -> Decimal:
    if prev is None:
        return ZERO
    return to_decimal(prev.data.get("TotalAmt", 0)) - to_decimal(prev.data.get("Balance", 0))


def _addresses(ctx: Ctx, body: dict[str, Any], prev: Record | None, out: dict[str, Any]) -> None:
    prev_data = prev.data if prev else {}
    for slot in ("VendorAddr", "ShipAddr"):
        if isinstance(body.get(slot), dict):
            out[slot] = address(ctx, body[slot], prev_data.get(slot))


def _due_date(ctx: Ctx, body: dict[str, Any], out: dict[str, Any]) -> None:
    if body.get("SalesTermRef") is not None:
        term = lookup(ctx, "Term", body["SalesTermRef"], "SalesTermRef")
        out["SalesTermRef"] = {"value": term.data["Id"]}
    if body.get("DueDate") not in (None, ""):
        out["DueDate"] = txn_date(body["DueDate"], "DueDate")
        return
    days = 0
    if "SalesTermRef" in out:
        term_rec = ctx.realm.get("Term", out["SalesTermRef"]["value"])
        days = int(term_rec.data.get("DueDays", 0) or 0) if term_rec else 0
    out["DueDate"] = (date.fromisoformat(out["TxnDate"]) + timedelta(days=days)).isoformat()


def _drop_blank(out: dict[str, Any], *keys: str) -> None:
    for key in keys:
        if out.get(key) in ("", None):
            out.pop(key, None)


# ---------------------------------------------------------------- Bill


def _purchase_order_links(ctx: Ctx, body: dict[str, Any], vendor_id: str) -> list[dict[str, Any]]:
    links = []
    for link in body.get("LinkedTxn") or []:
        if not isinstance(link, dict) or link.get("TxnType") in PAYMENT_LINKS:
            continue  # bill payment links are the sandbox's to keep
        if link.get("TxnType") == "PurchaseOrder":
            po = lookup(ctx, "PurchaseOrder", {"value": link.get("TxnId")}, "LinkedTxn.TxnId")
            if po.data.get("VendorRef", {}).get("value") != vendor_id:
                raise faults.business("The purchase order linked to this bill belongs to another vendor")
            links.append({"TxnId": po.data["Id"], "TxnType": "PurchaseOrder"})
        elif link.get("TxnType") == "ReimburseCharge":
            links.append({"TxnId": str(link.get("TxnId")), "TxnType": "ReimburseCharge"})
        else:
            raise faults.invalid_property(
                "Property Name:LinkedTxn.TxnType of a bill must be PurchaseOrder or ReimburseCharge"
            )
    return links


def compute_bill(ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds) -> dict[str, Any]:
    """Bill: VendorRef and Line required; APAccountRef defaults to A/P; DueDate from SalesTermRef (or
    TxnDate); TotalAmt = lines; Balance = TotalAmt - bill payments applied."""
    out: dict[str, Any] = dict(body)
    vendor = vendor_header(ctx, body, prev, out)
    out["Line"], total = expense_lines(ctx, body, prev, ids)
    out["APAccountRef"] = ap_account(ctx, body.get("APAccountRef"))
    _addresses(ctx, body, prev, out)
    _due_date(ctx, body, out)
    links = _purchase_order_links(ctx, body, vendor.data["Id"])
    if prev is not None:
        links += [dict(x) for x in prev.data.get("LinkedTxn", []) if x.get("TxnType") in PAYMENT_LINKS]
    out["LinkedTxn"] = links
    paid = _applied(prev)
    if paid > total:
        raise faults.business("The bill total cannot be less than the bill payments applied to it")
    out["TotalAmt"] = total
    out["Balance"] = money(total - paid)
    home_amount(ctx, out, "TotalAmt", "HomeTotalAmt")
    home_amount(ctx, out, "Balance", "HomeBalance")
    _drop_blank(out, "DocNumber", "PrivateNote")
    return out


def _po_links(data: dict[str, Any] | None) -> set[str]:
    if not data or data.get("status") == "Deleted":
        return set()
    return {str(x["TxnId"]) for x in data.get("LinkedTxn", []) if x.get("TxnType") == "PurchaseOrder"}


def _bill_after(ctx: Ctx, entity_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    before, after = _po_links(old), _po_links(new)
    for po_id in sorted(before ^ after):
        po = ctx.realm.get("PurchaseOrder", po_id)
        if po is None:
            continue
        links = [x for x in po.data.get("LinkedTxn", []) if x != {"TxnId": entity_id, "TxnType": "Bill"}]
        if po_id in after:
            links.append({"TxnId": entity_id, "TxnType": "Bill"})
        po.data["LinkedTxn"] = links
        po.data["POStatus"] = "Closed" if any(x.get("TxnType") == "Bill" for x in links) else "Open"
        ctx.touch("PurchaseOrder", po_id)
    _vendors_after(ctx, entity_id, old, new)


def _vendors_after(ctx: Ctx, entity_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    for data in (old, new):
        if data and isinstance(data.get("VendorRef"), dict):
            vendor_balance(ctx, str(data["VendorRef"]["value"]))


def _refuse_if_paid(ctx: Ctx, data: dict[str, Any]) -> None:
    if any(x.get("TxnType") in PAYMENT_LINKS for x in data.get("LinkedTxn", [])):
        raise faults.business(
            "This bill is linked to a bill payment. Delete or void the bill payment first, then try again."
        )


# ---------------------------------------------------------------- VendorCredit


def compute_vendor_credit(
    ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds
) -> dict[str, Any]:
    """VendorCredit: VendorRef and Line required; Balance = TotalAmt - what bill payments applied."""
    out: dict[str, Any] = dict(body)
    vendor_header(ctx, body, prev, out)
    out["Line"], total = expense_lines(ctx, body, prev, ids)
    out["APAccountRef"] = ap_account(ctx, body.get("APAccountRef"))
    applied = _applied(prev)
    if applied > total:
        raise faults.business("The credit total cannot be less than what bill payments applied of it")
    out["TotalAmt"] = total
    out["Balance"] = money(total - applied)
    home_amount(ctx, out, "TotalAmt", "HomeTotalAmt")
    out["LinkedTxn"] = [dict(x) for x in (prev.data.get("LinkedTxn", []) if prev else [])]
    if not out["LinkedTxn"]:
        out.pop("LinkedTxn")
    _drop_blank(out, "DocNumber", "PrivateNote")
    return out


def _refuse_if_applied(ctx: Ctx, data: dict[str, Any]) -> None:
    if data.get("LinkedTxn"):
        raise faults.business(
            "This credit is applied by a bill payment. Delete or void the bill payment first, then try again."
        )


# ---------------------------------------------------------------- PurchaseOrder


def _next_po_number(ctx: Ctx) -> str:
    highest = 1000
    for rec in ctx.realm.live("PurchaseOrder"):
        doc = rec.data.get("DocNumber")
        if isinstance(doc, str) and doc.isdigit():
            highest = max(highest, int(doc))
    return str(highest + 1)


def _custom_fields(ctx: Ctx, given: Any) -> list[dict[str, Any]]:
    values = {
        str(x.get("DefinitionId")): x for x in given or [] if isinstance(x, dict) and x.get("DefinitionId")
    }
    out = []
    for definition in ctx.realm.custom_fields:
        entry: dict[str, Any] = {
            k: definition[k] for k in ("DefinitionId", "Name", "Type") if k in definition
        }
        value = values.get(str(definition.get("DefinitionId")), {})
        if value.get("StringValue") not in (None, ""):
            entry["StringValue"] = value["StringValue"]
        out.append(entry)
    return out


def compute_purchase_order(
    ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds
) -> dict[str, Any]:
    """PurchaseOrder (non-posting): VendorRef, APAccountRef and Line required; item lines need an item with
    an expense account; DocNumber numbered from 1001; POStatus Open until a bill links it."""
    if body.get("APAccountRef") is None:
        raise faults.required("APAccountRef")
    out: dict[str, Any] = dict(body)
    vendor_header(ctx, body, prev, out)
    out["Line"], out["TotalAmt"] = expense_lines(ctx, body, prev, ids, need_expense_account=True)
    out["APAccountRef"] = ap_account(ctx, body["APAccountRef"])
    home_amount(ctx, out, "TotalAmt", "HomeTotalAmt")
    _addresses(ctx, body, prev, out)
    prev_data = prev.data if prev else {}
    if body.get("DocNumber") in (None, ""):
        out["DocNumber"] = prev_data.get("DocNumber") or _next_po_number(ctx)
    out["CustomField"] = _custom_fields(ctx, body.get("CustomField"))
    if body.get("ShipTo") is not None:
        out["ShipTo"] = value_only(body["ShipTo"], "ShipTo")
        lookup(ctx, "Customer", out["ShipTo"], "ShipTo")
    if body.get("DueDate") not in (None, ""):
        out["DueDate"] = txn_date(body["DueDate"], "DueDate")
    out["LinkedTxn"] = [dict(x) for x in prev_data.get("LinkedTxn", [])]
    status = prev_data.get("POStatus", "Open")
    wanted = body.get("POStatus")
    if wanted not in (None, "", status):
        if wanted not in ("Open", "Closed"):
            raise faults.invalid_property(f"Property Name:POStatus value {wanted} is not supported")
        status = wanted
    out["POStatus"] = status
    out.setdefault("EmailStatus", "NotSet")
    if out.get("EmailStatus") == "NeedToSend" and not body.get("POEmail"):
        raise faults.required("POEmail")
    _drop_blank(out, "PrivateNote", "Memo")
    return out


_TXN = (
    "DocNumber",
    "TxnDate",
    "DepartmentRef",
    "CurrencyRef",
    "ExchangeRate",
    "PrivateNote",
    "LinkedTxn",
    "Line",
)

register(
    EntitySpec(
        name="Bill",
        order=(
            "DueDate",
            "Balance",
            "HomeBalance",
            *_SYS,
            *_TXN,
            "TxnTaxDetail",
            "VendorRef",
            "VendorAddr",
            "APAccountRef",
            "SalesTermRef",
            "TotalAmt",
            "HomeTotalAmt",
        ),
        compute=compute_bill,
        deletable=True,
        total_count=True,
        sparse_empty=("Line", "LinkedTxn"),
        after_write=_bill_after,
        before_remove=_refuse_if_paid,
    )
)
register(
    EntitySpec(
        name="VendorCredit",
        order=("Balance", *_SYS, *_TXN, "VendorRef", "APAccountRef", "TotalAmt", "HomeTotalAmt"),
        compute=compute_vendor_credit,
        deletable=True,
        total_count=True,
        sparse_empty=("Line",),
        after_write=_vendors_after,
        before_remove=_refuse_if_applied,
    )
)
register(
    EntitySpec(
        name="PurchaseOrder",
        order=(
            "POEmail",
            "POStatus",
            *_SYS,
            "CustomField",
            *_TXN,
            "VendorRef",
            "VendorAddr",
            "ShipAddr",
            "ShipTo",
            "APAccountRef",
            "TotalAmt",
            "HomeTotalAmt",
            "Memo",
            "DueDate",
            "EmailStatus",
        ),
        compute=compute_purchase_order,
        deletable=True,
        sparse_empty=("Line", "LinkedTxn"),
        sparse_id_only=("VendorAddr", "ShipAddr"),
    )
)
