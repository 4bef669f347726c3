"""Bank transactions (SPEND money out of, RECEIVE money into, a bank account) with server-computed totals,
and tracking categories with their options (at most two active categories, unique option names)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from sandbox.xero.invoices import contact_for, prepare_lines
from sandbox.xero.saving import SaveContext, Saved, commit, refused
from sandbox.xero.store import new_id
from sandbox.xero.totals import LINE_AMOUNT_TYPES, compute
from sandbox.xero.wire import BadRequest, ms_date, parse_date

__all__ = ["add_option", "save_bank_transaction", "save_tracking_category"]

_KINDS = ("SPEND", "RECEIVE")


def _bank_account(ctx: SaveContext, given: Any, errors: list[str]) -> dict[str, Any] | None:
    account = None
    if isinstance(given, dict):
        account = ctx.org.account(code=given.get("Code"), account_id=given.get("AccountID"))
    if account is None or account["Type"] != "BANK":
        errors.append("A valid BankAccount must be specified")
        return None
    return account


def save_bank_transaction(ctx: SaveContext, element: dict[str, Any]) -> Saved:
    errors: list[str] = []
    existing = None
    if element.get("BankTransactionID"):
        existing = ctx.org.docs["BankTransactions"].get(str(element["BankTransactionID"]))
        if existing is None or ctx.create_only:
            return refused(element, ["Bank transaction could not be found or already exists"])
        if existing["Status"] == "DELETED":
            return refused(element, ["This Bank Transaction cannot be edited as it has been deleted."])
        if str(element.get("Status", "")).upper() == "DELETED":
            doc = copy.deepcopy(existing)
            doc["Status"] = "DELETED"
            return commit(ctx, "BankTransactions", doc)
    doc = copy.deepcopy(existing) if existing else {"Status": "AUTHORISED", "IsReconciled": False}
    kind = str(element.get("Type") or doc.get("Type") or "").upper()
    if kind not in _KINDS:
        errors.append("Type must be SPEND or RECEIVE")
    bank = _bank_account(ctx, element.get("BankAccount", doc.get("BankAccount")), errors)
    amount_types = str(element.get("LineAmountTypes") or doc.get("LineAmountTypes") or "Exclusive")
    if amount_types not in LINE_AMOUNT_TYPES:
        errors.append(f"LineAmountTypes must be one of {', '.join(LINE_AMOUNT_TYPES)}")
    try:
        day = parse_date(element["Date"], "Date") if element.get("Date") else ctx.today
    except BadRequest as err:
        errors.append(str(err))
        day = ctx.today
    lines = prepare_lines(
        ctx, element.get("LineItems", doc.get("LineItems", [])), kind == "RECEIVE", True, errors
    )
    if not lines:
        errors.append("A bank transaction needs at least one line item")
    if any(ctx.org.account(code=str(line.get("AccountCode"))) is bank for line in lines if bank):
        errors.append("A line cannot be coded to the bank account the money moves through")
    totals = compute(lines, amount_types, ctx.org.tax_rate, errors)
    if errors:
        return refused(element, errors)
    contact = contact_for(ctx, element.get("Contact", doc.get("Contact")), errors, None)
    if contact is None or bank is None:
        return refused(element, errors)
    ctx.org.docs["Contacts"].setdefault(contact["ContactID"], contact)
    doc.update({k: element[k] for k in ("Reference", "Url", "IsReconciled") if k in element})
    doc.update(
        {
            "Type": kind,
            "Contact": {"ContactID": contact["ContactID"], "Name": contact["Name"]},
            "BankAccount": {"AccountID": bank["AccountID"], "Code": bank["Code"], "Name": bank["Name"]},
            "LineAmountTypes": amount_types,
            "LineItems": lines,
            "Date": ms_date(day),
            "DateString": f"{day.isoformat()}T00:00:00",
            "SubTotal": totals.sub_total,
            "TotalTax": totals.total_tax,
            "Total": totals.total,
            "CurrencyCode": "NZD",
            "CurrencyRate": Decimal(1),
            "HasAttachments": bool(doc.get("HasAttachments")),
        }
    )
    return commit(ctx, "BankTransactions", doc)


def save_tracking_category(ctx: SaveContext, element: dict[str, Any]) -> Saved:
    categories = ctx.org.docs["TrackingCategories"]
    category_id = element.get("TrackingCategoryID")
    existing = categories.get(str(category_id)) if category_id else None
    if category_id and (existing is None or ctx.create_only):
        return refused(element, ["Tracking category could not be found or already exists"])
    name = str(element.get("Name") or (existing or {}).get("Name") or "").strip()
    errors = [] if name else ["The tracking category name must be specified"]
    if any(c is not existing and c["Name"].lower() == name.lower() for c in categories.values()):
        errors.append(f"A tracking category called {name} already exists")
    active = [c for c in categories.values() if c["Status"] == "ACTIVE" and c is not existing]
    if existing is None and len(active) >= 2:
        errors.append("You can only have 2 active tracking categories")
    if errors:
        return refused(element, errors)
    doc = copy.deepcopy(existing) if existing else {"Status": "ACTIVE", "Options": []}
    doc["Name"] = name
    saved = commit(ctx, "TrackingCategories", doc)
    saved.doc.pop("UpdatedDateUTC", None)
    return saved


def add_option(ctx: SaveContext, category_id: str, element: dict[str, Any]) -> Saved:
    """PUT /TrackingCategories/{id}/Options: a new option (a project, a job) of the category."""
    category = ctx.org.docs["TrackingCategories"].get(category_id)
    if category is None:
        return refused(element, ["Tracking category could not be found"])
    name = str(element.get("Name") or "").strip()
    errors = [] if name and len(name) <= 100 else ["The option name must be 1 to 100 characters"]
    if any(o["Name"].lower() == name.lower() for o in category["Options"]):
        errors.append("For each specified tracking option the name must be unique.")
    if errors:
        return refused(element, errors)
    option = {"TrackingOptionID": new_id(), "Name": name, "Status": "ACTIVE"}
    category["Options"].append(option)
    return Saved(option)
