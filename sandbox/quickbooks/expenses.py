"""Purchase (expense, check, credit-card charge), Deposit, JournalEntry: totals are the sum of the lines."""

from __future__ import annotations

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
    home_amount,
    line_id,
    lines_in,
    prev_line_ids,
)
from sandbox.quickbooks.wire import money

__all__: list[str] = []

_SYS = SYSTEM_KEYS


# ---------------------------------------------------------------- expenses, deposits, journal entries


def compute_purchase(ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds) -> dict[str, Any]:
    """Purchase (expense, check, credit-card charge): AccountRef, PaymentType required; TotalAmt = lines."""
    if body.get("AccountRef") is None:
        raise faults.required("AccountRef")
    if body.get("PaymentType") not in ("Cash", "Check", "CreditCard"):
        raise faults.required("PaymentType")
    out: dict[str, Any] = dict(body)
    out["AccountRef"] = account_ref(ctx, body["AccountRef"], "AccountRef", None)
    prev_ids = prev_line_ids(prev)
    lines_out: list[dict[str, Any]] = []
    total = ZERO
    for line in lines_in(body):
        detail_type = line.get("DetailType")
        if detail_type not in ("AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail"):
            raise faults.required("Line.DetailType")
        amount = amount_of(line)
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
        built: dict[str, Any] = {"Id": line_id(line, prev_ids, ids)}
        if line.get("Description") is not None:
            built["Description"] = line["Description"]
        built.update({"Amount": amount, "DetailType": detail_type, detail_type: detail})
        lines_out.append(built)
        total += amount
    out["Line"] = lines_out
    out["TotalAmt"] = money(total)
    common_header(ctx, body, prev, out)
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
    prev_ids = prev_line_ids(prev)
    lines_out: list[dict[str, Any]] = []
    total = ZERO
    for line in lines_in(body):
        amount = amount_of(line)
        built: dict[str, Any] = {
            "Id": line_id(line, prev_ids, ids),
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
    common_header(ctx, body, prev, out)
    home_amount(ctx, out, "TotalAmt", "HomeTotalAmt")
    return out


def compute_journal_entry(
    ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds
) -> dict[str, Any]:
    """JournalEntry: debits must equal credits; line Ids start at "0"."""
    out: dict[str, Any] = dict(body)
    out.setdefault("Adjustment", False)
    prev_ids = prev_line_ids(prev)
    lines_out: list[dict[str, Any]] = []
    debit = credit = ZERO
    for line in lines_in(body):
        if line.get("DetailType") != "JournalEntryLineDetail":
            raise faults.required("Line.DetailType")
        amount = amount_of(line)
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
        built: dict[str, Any] = {"Id": line_id(line, prev_ids, ids)}
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
    common_header(ctx, body, prev, out)
    out["Line"] = lines_out
    out["TotalAmt"] = money(debit)
    home_amount(ctx, out, "TotalAmt", "HomeTotalAmt")
    return out


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
