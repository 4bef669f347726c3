"""The organisation's settings: Accounts (PUT creates one; POST /Accounts/{id} updates) and TaxRates (PUT
creates one, its TaxType made up as Xero does: TAX001, ...)."""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.xero.saving import SaveContext, Saved, commit, refused

__all__ = ["ACCOUNT_TYPES", "save_account", "save_tax_rate"]

ACCOUNT_TYPES = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
    "OTHERINCOME": "REVENUE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "EQUITY": "EQUITY",
}


def save_account(ctx: SaveContext, element: dict[str, Any]) -> Saved:
    account_id = element.get("AccountID")
    existing = ctx.org.docs["Accounts"].get(str(account_id)) if account_id else None
    if account_id and (existing is None or ctx.create_only):
        return refused(element, [f"Account {account_id} cannot be created or found"])
    doc = copy.deepcopy(existing) if existing else {"Status": "ACTIVE", "EnablePaymentsToAccount": False}
    doc.update({k: v for k, v in element.items() if k in ("Code", "Name", "Type", "TaxType", "Description")})
    errors = []
    code, kind = str(doc.get("Code") or "").strip(), str(doc.get("Type") or "").upper()
    if not code or len(code) > 10:
        errors.append("Please enter a unique Code (up to 10 characters)")
    clash = ctx.org.account(code=code)
    if clash is not None and clash is not existing:
        errors.append("Please enter a unique Code.")
    if not str(doc.get("Name") or "").strip():
        errors.append("Please enter a unique Name.")
    if kind not in ACCOUNT_TYPES:
        errors.append(f"Account type '{kind}' is not valid")
    tax = str(doc.get("TaxType") or "NONE")
    if tax not in ctx.org.docs["TaxRates"]:
        errors.append(
            f"The TaxType code '{tax}' does not exist or cannot be used for this type of transaction."
        )
    if errors:
        return refused(element, errors)
    doc.update({"Code": code, "Type": kind, "TaxType": tax, "Class": ACCOUNT_TYPES[kind]})
    return commit(ctx, "Accounts", doc)


def save_tax_rate(ctx: SaveContext, element: dict[str, Any]) -> Saved:
    name = str(element.get("Name") or "").strip()
    components = element.get("TaxComponents")
    errors = [] if name else ["The tax rate name must be specified"]
    rate = Decimal(0)
    if not isinstance(components, list) or not components:
        errors.append("A tax rate needs at least one TaxComponent")
    else:
        for component in components:
            try:
                rate += Decimal(str(component.get("Rate")))
            except (InvalidOperation, AttributeError):
                errors.append("Each TaxComponent needs a numeric Rate")
    if any(str(t.get("Name")).lower() == name.lower() for t in ctx.org.docs["TaxRates"].values()):
        errors.append(f"A tax rate called {name} already exists")
    if errors:
        return refused(element, errors)
    tax_type = "TAX" + ctx.org.next_number("TAX").split("-")[1][1:]  # TAX001
    doc = {
        "Name": name,
        "TaxType": tax_type,
        "Status": "ACTIVE",
        "ReportTaxType": str(element.get("ReportTaxType") or "OUTPUT"),
        "CanApplyToRevenue": True,
        "CanApplyToExpenses": True,
        "DisplayTaxRate": rate,
        "EffectiveRate": rate,
        "TaxComponents": components,
    }
    saved = commit(ctx, "TaxRates", doc)
    saved.doc.pop("UpdatedDateUTC", None)
    return saved
