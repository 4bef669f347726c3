"""Payments: applied to invoices through `Line[].LinkedTxn`; they move the invoices' Balance (and bump their
SyncToken), and `LineEx` shows each invoice's open balance without this payment, as the capture does.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.quickbooks import faults
from sandbox.quickbooks.entities import Ctx, EntitySpec, LineIds, register
from sandbox.quickbooks.names import account_ref, lookup, value_only
from sandbox.quickbooks.store import Record
from sandbox.quickbooks.txnbase import (
    SYSTEM_KEYS,
    ZERO,
    amount_of,
    common_header,
    customer_balance,
    home_amount,
    voided_note,
)
from sandbox.quickbooks.wire import money, to_decimal

__all__: list[str] = []

_SYS = SYSTEM_KEYS


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
        amount = amount_of(line)
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
    common_header(ctx, body, prev, out)
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
            home_amount(ctx, data, "Balance", "HomeBalance")
        if changed:
            ctx.touch("Invoice", inv_id)
        customers.add(str(data.get("CustomerRef", {}).get("value")))
    for customer_id in customers:
        customer_balance(ctx, customer_id)


def _void_payment(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    out["TotalAmt"] = 0
    out["UnappliedAmt"] = 0
    out["Line"] = []
    out["PrivateNote"] = voided_note(data.get("PrivateNote"))
    return out


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
        void_by_update=True,
        void=_void_payment,
        sparse_empty=("Line",),
        after_write=_payment_after,
    )
)
