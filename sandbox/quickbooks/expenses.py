"""Purchase (expense, check, credit-card charge), Deposit, JournalEntry: totals are the sum of the lines."""

from __future__ import annotations

from typing import Any

from sandbox.quickbooks import faults
from sandbox.quickbooks.entities import Ctx, EntitySpec, LineIds, register
from sandbox.quickbooks.expenselines import expense_lines
from sandbox.quickbooks.names import account_ref, lookup, party_ref
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
    out["Line"], out["TotalAmt"] = expense_lines(ctx, body, prev, ids)
    common_header(ctx, body, prev, out)
    if body.get("EntityRef") is not None:
        out["EntityRef"] = party_ref(ctx, body["EntityRef"], "EntityRef")
    return out


DEPOSIT_LINKABLE = ("Payment", "SalesReceipt", "RefundReceipt", "JournalEntry", "Transfer")


def _deposit_detail(ctx: Ctx, line: dict[str, Any]) -> dict[str, Any]:
    detail = dict(line.get("DepositLineDetail") or {})
    if detail.get("AccountRef") is None:
        raise faults.required("Line.DepositLineDetail.AccountRef")
    detail["AccountRef"] = account_ref(ctx, detail["AccountRef"], "Line.DepositLineDetail.AccountRef", None)
    if detail.get("Entity") is not None:
        detail["Entity"] = party_ref(ctx, detail["Entity"], "Line.DepositLineDetail.Entity")
    if detail.get("PaymentMethodRef") is not None:
        method = lookup(
            ctx, "PaymentMethod", detail["PaymentMethodRef"], "Line.DepositLineDetail.PaymentMethodRef"
        )
        detail["PaymentMethodRef"] = {"value": method.data["Id"], "name": method.data.get("Name", "")}
    if detail.get("ClassRef") is not None:
        cls = lookup(ctx, "Class", detail["ClassRef"], "Line.DepositLineDetail.ClassRef")
        detail["ClassRef"] = {"value": cls.data["Id"], "name": cls.data.get("Name", "")}
    if detail.get("CheckNum") == "":
        detail.pop("CheckNum")
    return detail


def _deposit_links(ctx: Ctx, line: dict[str, Any]) -> list[dict[str, Any]]:
    links = []
    for link in line["LinkedTxn"]:
        kind = link.get("TxnType") if isinstance(link, dict) else None
        if kind not in DEPOSIT_LINKABLE:
            raise faults.invalid_property(
                f"Property Name:Line.LinkedTxn.TxnType must be one of {', '.join(DEPOSIT_LINKABLE)}"
            )
        target = lookup(ctx, str(kind), {"value": link.get("TxnId")}, "Line.LinkedTxn.TxnId")
        links.append(
            {"TxnId": target.data["Id"], "TxnType": kind, "TxnLineId": str(link.get("TxnLineId", "0"))}
        )
    return links


def compute_deposit(ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds) -> dict[str, Any]:
    """Deposit into a Bank or Other Current Asset account: lines from accounts, or linked payments /
    sales receipts (funds leaving Undeposited Funds); TotalAmt = lines - CashBack."""
    if body.get("DepositToAccountRef") is None:
        raise faults.required("DepositToAccountRef")
    out: dict[str, Any] = dict(body)
    target = lookup(ctx, "Account", body["DepositToAccountRef"], "DepositToAccountRef")
    if target.data.get("AccountType") not in ("Bank", "Other Current Asset"):
        raise faults.business("Deposits go into a Bank or Other Current Asset account")
    out["DepositToAccountRef"] = account_ref(ctx, body["DepositToAccountRef"], "DepositToAccountRef", None)
    prev_ids = prev_line_ids(prev)
    lines_out: list[dict[str, Any]] = []
    total = ZERO
    for line in lines_in(body):
        amount = amount_of(line)
        built: dict[str, Any] = {
            "Id": line_id(line, prev_ids, ids),
            "LineNum": len(lines_out) + 1,
        }
        if line.get("Description") not in (None, ""):
            built["Description"] = line["Description"]
        built["Amount"] = amount
        if line.get("LinkedTxn"):
            built["LinkedTxn"] = _deposit_links(ctx, line)
        else:
            built["DetailType"] = "DepositLineDetail"
            built["DepositLineDetail"] = _deposit_detail(ctx, line)
        lines_out.append(built)
        total += amount
    cash_back = body.get("CashBack")
    if isinstance(cash_back, dict) and cash_back.get("Amount") not in (None, 0):
        if cash_back.get("AccountRef") is None:
            raise faults.required("CashBack.AccountRef")
        back = money(cash_back["Amount"], "CashBack.Amount")
        if back > total:
            raise faults.business("The cash back amount is more than the deposit total")
        out["CashBack"] = {
            **cash_back,
            "AccountRef": account_ref(ctx, cash_back["AccountRef"], "CashBack.AccountRef", None),
            "Amount": back,
        }
        total -= back
    else:
        out.pop("CashBack", None)
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
            "CashBack",
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
