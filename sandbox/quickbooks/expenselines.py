"""Expense lines, as Purchase, Bill, VendorCredit and PurchaseOrder share them: account-based and item-based.

Each line gets a string `Id` (kept when the client resends a line it read), `Amount` (computed from
`Qty` x `UnitPrice` when only those are sent), the referenced account / item / customer / class with their
names, `BillableStatus` "NotBillable" and `TaxCodeRef` "NON" by default, as Intuit's samples show.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.quickbooks import faults
from sandbox.quickbooks.entities import Ctx, LineIds
from sandbox.quickbooks.names import account_ref, lookup, value_only
from sandbox.quickbooks.store import Record
from sandbox.quickbooks.txnbase import ZERO, amount_of, line_id, lines_in, prev_line_ids
from sandbox.quickbooks.wire import money, plain, to_decimal

__all__ = ["ACCOUNT_LINE", "ITEM_LINE", "expense_lines"]

ACCOUNT_LINE = "AccountBasedExpenseLineDetail"
ITEM_LINE = "ItemBasedExpenseLineDetail"
_BILLABLE = ("Billable", "NotBillable", "HasBeenBilled")


def _party_refs(ctx: Ctx, detail: dict[str, Any], path: str) -> None:
    if detail.get("CustomerRef") is not None:
        who = lookup(ctx, "Customer", detail["CustomerRef"], f"{path}.CustomerRef")
        detail["CustomerRef"] = {"value": who.data["Id"], "name": who.data.get("DisplayName", "")}
    if detail.get("ClassRef") is not None:
        cls = lookup(ctx, "Class", detail["ClassRef"], f"{path}.ClassRef")
        detail["ClassRef"] = {"value": cls.data["Id"], "name": cls.data.get("Name", "")}
    status = detail.setdefault("BillableStatus", "NotBillable")
    if status not in _BILLABLE:
        raise faults.invalid_property(f"Property Name:{path}.BillableStatus value {status} is not supported")
    detail["TaxCodeRef"] = value_only(detail.get("TaxCodeRef") or {"value": "NON"}, f"{path}.TaxCodeRef")


def _item_line(ctx: Ctx, line: dict[str, Any], detail: dict[str, Any], need_expense_account: bool) -> Decimal:
    path = f"Line.{ITEM_LINE}"
    if detail.get("ItemRef") is None:
        raise faults.required(f"{path}.ItemRef")
    item = lookup(ctx, "Item", detail["ItemRef"], f"{path}.ItemRef")
    if need_expense_account and not item.data.get("ExpenseAccountRef"):
        raise faults.business(
            f"Item {item.data.get('Name')} has no expense account; purchase order lines need an item "
            "with an ExpenseAccountRef"
        )
    detail["ItemRef"] = {"value": item.data["Id"], "name": item.data.get("Name", "")}
    qty, price = detail.get("Qty"), detail.get("UnitPrice")
    if qty is not None:
        detail["Qty"] = plain(qty, "Qty")
    if price is not None:
        detail["UnitPrice"] = plain(price, "UnitPrice")
    _party_refs(ctx, detail, path)
    if line.get("Amount") is None:
        if qty is None or price is None:
            raise faults.required("Line.Amount")
        return money(to_decimal(qty) * to_decimal(price))
    return amount_of(line)


def expense_lines(
    ctx: Ctx,
    body: dict[str, Any],
    prev: Record | None,
    ids: LineIds,
    need_expense_account: bool = False,
) -> tuple[list[dict[str, Any]], Decimal]:
    """The built lines and their total; 2020/610 on a missing or unknown reference."""
    prev_ids = prev_line_ids(prev)
    built_lines: list[dict[str, Any]] = []
    total = ZERO
    for line in lines_in(body):
        detail_type = line.get("DetailType")
        if detail_type not in (ACCOUNT_LINE, ITEM_LINE):
            raise faults.required("Line.DetailType")
        detail = dict(line.get(detail_type) or {})
        if detail_type == ACCOUNT_LINE:
            if detail.get("AccountRef") is None:
                raise faults.required(f"Line.{ACCOUNT_LINE}.AccountRef")
            detail["AccountRef"] = account_ref(
                ctx, detail["AccountRef"], f"Line.{ACCOUNT_LINE}.AccountRef", None
            )
            _party_refs(ctx, detail, f"Line.{ACCOUNT_LINE}")
            amount = amount_of(line)
        else:
            amount = _item_line(ctx, line, detail, need_expense_account)
        built: dict[str, Any] = {"Id": line_id(line, prev_ids, ids)}
        if line.get("Description") not in (None, ""):
            built["Description"] = line["Description"]
        built.update({"Amount": amount, "DetailType": detail_type, detail_type: detail})
        if line.get("ProjectRef") is not None:
            built["ProjectRef"] = value_only(line["ProjectRef"], "Line.ProjectRef")
        built_lines.append(built)
        total += amount
    return built_lines, money(total)
