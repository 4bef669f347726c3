"""Helpers shared by the transaction types: lines and their ids, amounts, header fields, home amounts,
and the customer's running balance."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.quickbooks import faults
from sandbox.quickbooks.entities import Ctx, LineIds
from sandbox.quickbooks.names import currency
from sandbox.quickbooks.store import Record
from sandbox.quickbooks.wire import money, plain, to_decimal, txn_date

__all__ = [
    "SYSTEM_KEYS",
    "ZERO",
    "amount_of",
    "common_header",
    "customer_balance",
    "home_amount",
    "line_id",
    "lines_in",
    "prev_line_ids",
    "today",
    "voided_note",
]

ZERO = Decimal(0)
SYSTEM_KEYS = ("domain", "sparse", "Id", "SyncToken", "MetaData")


def today(ctx: Ctx) -> str:
    return ctx.now.astimezone(ctx.realm.tz).date().isoformat()


def lines_in(body: dict[str, Any]) -> list[dict[str, Any]]:
    lines = body.get("Line")
    if not isinstance(lines, list) or not lines:
        raise faults.required("Line")
    for line in lines:
        if not isinstance(line, dict):
            raise faults.invalid_property("Property Name:Line must be a list of objects")
    return lines


def line_id(line: dict[str, Any], prev_ids: set[str], ids: LineIds) -> str:
    given = line.get("Id")
    if given is not None and str(given) in prev_ids:
        return str(given)
    return ids.take()


def prev_line_ids(prev: Record | None) -> set[str]:
    if prev is None:
        return set()
    return {str(x["Id"]) for x in prev.data.get("Line", []) if isinstance(x, dict) and "Id" in x}


def amount_of(line: dict[str, Any], element: str = "Line.Amount") -> Decimal:
    if line.get("Amount") is None:
        raise faults.required(element)
    return money(line["Amount"], "Amount")


def common_header(ctx: Ctx, body: dict[str, Any], prev: Record | None, out: dict[str, Any]) -> None:
    """TxnDate (date only), CurrencyRef/ExchangeRate, DocNumber kept."""
    prev_data = prev.data if prev else {}
    if body.get("TxnDate") is not None:
        out["TxnDate"] = txn_date(body["TxnDate"], "TxnDate")
    else:
        out["TxnDate"] = prev_data.get("TxnDate", today(ctx))
    if ctx.multicurrency:
        out["CurrencyRef"] = currency(ctx, body.get("CurrencyRef"), prev_data or None)
        if out["CurrencyRef"].get("value") == ctx.realm.home_currency[0]:
            out["ExchangeRate"] = 1  # the home currency's rate is 1 whatever is sent (SDKs send 0 or 1)
        else:
            out["ExchangeRate"] = plain(
                body.get("ExchangeRate", prev_data.get("ExchangeRate", 1)), "ExchangeRate"
            )
    else:
        out.pop("CurrencyRef", None)
        out.pop("ExchangeRate", None)


def voided_note(note: Any) -> str:
    """PrivateNote after a void: "Voided", put before any text already there ("Voided - <note>")."""
    return f"Voided - {note}" if isinstance(note, str) and note else "Voided"


def home_amount(ctx: Ctx, out: dict[str, Any], amount_key: str, home_key: str) -> None:
    if ctx.multicurrency and amount_key in out:
        rate = to_decimal(out.get("ExchangeRate", 1))
        out[home_key] = money(to_decimal(out[amount_key]) * rate)


def customer_balance(ctx: Ctx, customer_id: str) -> None:
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
