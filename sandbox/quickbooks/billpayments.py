"""BillPayment: pays bills (and applies vendor credits) by check or credit card, as a Payment pays invoices.

Each `Line[].LinkedTxn` names a Bill (or a VendorCredit) of the same vendor. What a payment applies lowers
the bill's `Balance` (and bumps its SyncToken and LastUpdatedTime, with a webhook Update) and adds a
`BillPaymentCheck` / `BillPaymentCreditCard` link to the bill; applying more than a bill's open balance, or
more than `TotalAmt` (bills less credits), is a 6000. Updating, voiding or deleting the payment moves the
balances back. A void keeps the payment with its amounts zeroed, its lines cleared and "Voided" put in front
of its PrivateNote.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.quickbooks import faults
from sandbox.quickbooks.entities import Ctx, EntitySpec, LineIds, register
from sandbox.quickbooks.names import account_ref, lookup
from sandbox.quickbooks.payables import ap_account, vendor_balance, vendor_header
from sandbox.quickbooks.store import Record
from sandbox.quickbooks.txnbase import SYSTEM_KEYS, ZERO, amount_of, home_amount
from sandbox.quickbooks.wire import money, to_decimal

__all__: list[str] = []

_APPLIES_TO = ("Bill", "VendorCredit")
_LINK_TYPE = {"Check": "BillPaymentCheck", "CreditCard": "BillPaymentCreditCard"}


def _applications(data: dict[str, Any] | None) -> dict[tuple[str, str], Decimal]:
    """(TxnType, TxnId) -> amount applied, for bills and vendor credits."""
    apps: dict[tuple[str, str], Decimal] = {}
    if not data or data.get("status") == "Deleted":
        return apps
    for line in data.get("Line", []):
        for link in line.get("LinkedTxn", []):
            if link.get("TxnType") in _APPLIES_TO:
                key = (str(link["TxnType"]), str(link.get("TxnId")))
                apps[key] = apps.get(key, ZERO) + to_decimal(line.get("Amount", 0))
    return apps


def _pay_from(ctx: Ctx, body: dict[str, Any], pay_type: str, out: dict[str, Any]) -> None:
    """CheckPayment.BankAccountRef (a Bank account) or CreditCardPayment.CCAccountRef (a Credit Card one)."""
    slot, key, kind = (
        ("CheckPayment", "BankAccountRef", "Bank")
        if pay_type == "Check"
        else ("CreditCardPayment", "CCAccountRef", "Credit Card")
    )
    given = body.get(slot)
    if not isinstance(given, dict) or given.get(key) is None:
        raise faults.required(f"{slot}.{key}")
    account = lookup(ctx, "Account", given[key], f"{slot}.{key}")
    if account.data.get("AccountType") != kind:
        raise faults.business(f"{slot}.{key} must be a {kind} account; {account.data.get('Name')} is not")
    detail = dict(given)
    detail[key] = account_ref(ctx, given[key], f"{slot}.{key}", None)
    if pay_type == "Check":
        detail.setdefault("PrintStatus", "NeedToPrint")
    out[slot] = detail
    out.pop("CreditCardPayment" if pay_type == "Check" else "CheckPayment", None)


def compute_bill_payment(ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds) -> dict[str, Any]:
    """BillPayment: VendorRef, PayType, TotalAmt and Line required; lines link bills / vendor credits."""
    pay_type = body.get("PayType")
    if pay_type in (None, ""):
        raise faults.required("PayType")
    if pay_type not in _LINK_TYPE:
        raise faults.invalid_property(f"Property Name:PayType value {pay_type} is not supported")
    if body.get("TotalAmt") in (None, ""):
        raise faults.required("TotalAmt")
    total = money(body["TotalAmt"], "TotalAmt")
    if total < 0:
        raise faults.business("The total amount of a bill payment cannot be negative")
    if not isinstance(body.get("Line"), list):
        raise faults.required("Line")
    out: dict[str, Any] = dict(body)
    vendor = vendor_header(ctx, body, prev, out)
    _pay_from(ctx, body, str(pay_type), out)
    out["APAccountRef"] = ap_account(ctx, body.get("APAccountRef"))
    prev_apps = _applications(prev.data if prev else None)
    lines_out: list[dict[str, Any]] = []
    applied = ZERO
    for line in body["Line"]:
        if not isinstance(line, dict):
            raise faults.invalid_property("Property Name:Line must be a list of objects")
        amount = amount_of(line)
        links = [x for x in line.get("LinkedTxn") or [] if isinstance(x, dict)]
        if not links:
            raise faults.required("Line.LinkedTxn")
        built_links = []
        for link in links:
            kind = link.get("TxnType")
            if kind not in _APPLIES_TO:
                raise faults.invalid_property(
                    "Property Name:Line.LinkedTxn.TxnType of a bill payment must be Bill or VendorCredit"
                )
            txn = lookup(ctx, str(kind), {"value": link.get("TxnId")}, "Line.LinkedTxn.TxnId")
            if txn.data.get("VendorRef", {}).get("value") != vendor.data["Id"]:
                raise faults.business(f"The {kind} linked to this bill payment belongs to another vendor")
            txn_id = str(txn.data["Id"])
            open_before = to_decimal(txn.data.get("Balance", 0)) + prev_apps.get((str(kind), txn_id), ZERO)
            if amount > open_before:
                raise faults.business(
                    f"The amount {amount} applied to {kind} {txn_id} exceeds its open balance "
                    f"{money(open_before)}"
                )
            built_links.append({"TxnId": txn_id, "TxnType": kind})
            applied += amount if kind == "Bill" else -amount
        lines_out.append({"Amount": amount, "LinkedTxn": built_links})
    if applied > total:
        raise faults.business(
            f"The bills paid less the credits applied ({money(applied)}) exceed the payment's "
            f"TotalAmt {total}"
        )
    out["Line"] = lines_out
    out["TotalAmt"] = total
    home_amount(ctx, out, "TotalAmt", "HomeTotalAmt")
    for key in ("DocNumber", "PrivateNote"):
        if out.get(key) in ("", None):
            out.pop(key, None)
    return out


def _after(ctx: Ctx, entity_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    """Move the balances of the linked bills and credits by the change in what this payment applies."""
    before, after = _applications(old), _applications(new)
    source = new if new and new.get("status") != "Deleted" else old
    link_type = _LINK_TYPE.get(str((source or {}).get("PayType")), "BillPaymentCheck")
    vendors: set[str] = set()
    for kind, txn_id in sorted(set(before) | set(after)):
        delta = after.get((kind, txn_id), ZERO) - before.get((kind, txn_id), ZERO)
        rec = ctx.realm.get(kind, txn_id)
        if rec is None:
            continue
        data = rec.data
        links = [x for x in data.get("LinkedTxn", []) if x.get("TxnId") != entity_id]
        if after.get((kind, txn_id), ZERO) > 0:
            links.append({"TxnId": entity_id, "TxnType": link_type})
        changed = delta != 0 or links != data.get("LinkedTxn", [])
        if links or "LinkedTxn" in data:
            data["LinkedTxn"] = links
        data["Balance"] = money(to_decimal(data.get("Balance", 0)) - delta)
        if "HomeBalance" in data:
            home_amount(ctx, data, "Balance", "HomeBalance")
        if changed:
            ctx.touch(kind, txn_id)
        vendors.add(str(data.get("VendorRef", {}).get("value")))
    for vendor_id in vendors:
        vendor_balance(ctx, vendor_id)


def _void(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    out["TotalAmt"] = 0
    if "HomeTotalAmt" in out:
        out["HomeTotalAmt"] = 0
    out["Line"] = []
    note = data.get("PrivateNote")
    out["PrivateNote"] = (
        f"Voided - {note}" if note and not str(note).startswith("Voided") else note or "Voided"
    )
    return out


register(
    EntitySpec(
        name="BillPayment",
        order=(
            "VendorRef",
            "PayType",
            "CheckPayment",
            "CreditCardPayment",
            "TotalAmt",
            "HomeTotalAmt",
            *SYSTEM_KEYS,
            "DocNumber",
            "TxnDate",
            "DepartmentRef",
            "CurrencyRef",
            "ExchangeRate",
            "PrivateNote",
            "Line",
            "APAccountRef",
        ),
        compute=compute_bill_payment,
        deletable=True,
        voidable=True,
        void=_void,
        void_by_update=True,  # as Intuit documents for BillPayment: operation=update&include=void
        sparse_empty=("Line",),
        after_write=_after,
    )
)
