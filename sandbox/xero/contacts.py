"""Contacts and Items: PUT creates; POST creates or updates, matching an existing one by its id, or by
name (contacts) or code (items) as Xero does."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.xero.saving import SaveContext, Saved, commit, refused

__all__ = ["save_contact", "save_item"]

_CONTACT_FIELDS = (
    "Name",
    "FirstName",
    "LastName",
    "EmailAddress",
    "AccountNumber",
    "ContactNumber",
    "TaxNumber",
    "ContactStatus",
    "Addresses",
    "Phones",
    "IsSupplier",
    "IsCustomer",
    "DefaultCurrency",
    "BankAccountDetails",
)
_ITEM_FIELDS = ("Code", "Name", "Description", "PurchaseDescription", "PurchaseDetails", "SalesDetails")


def _existing(
    ctx: SaveContext, resource: str, element: dict[str, Any], id_field: str, key: str
) -> tuple[dict[str, Any] | None, str | None]:
    doc_id = element.get(id_field)
    if doc_id:
        found = ctx.org.docs[resource].get(str(doc_id))
        if found is None:
            return None, f"{resource[:-1]} with {id_field} {doc_id} could not be found"
        if ctx.create_only:
            return (
                None,
                f"A {resource[:-1].lower()} with {id_field} {doc_id} already exists; use POST to update it",
            )
        return found, None
    if not ctx.create_only and element.get(key):
        return ctx.org.find(resource, key, element[key]), None
    return None, None


def save_contact(ctx: SaveContext, element: dict[str, Any]) -> Saved:
    existing, problem = _existing(ctx, "Contacts", element, "ContactID", "Name")
    if problem:
        return refused(element, [problem])
    fresh: dict[str, Any] = {"ContactStatus": "ACTIVE", "Addresses": [], "Phones": []}
    doc = copy.deepcopy(existing) if existing else fresh
    doc.update({k: element[k] for k in _CONTACT_FIELDS if k in element})
    name = str(doc.get("Name") or "").strip()
    errors = []
    if not name:
        errors.append("The contact name must be specified")
    elif len(name) > 255:
        errors.append("The contact name must be 255 characters or fewer")
    clash = ctx.org.find("Contacts", "Name", name) if name else None
    if clash is not None and clash is not existing and clash.get("ContactStatus") == "ACTIVE":
        errors.append(
            f"The contact name {name} is already assigned to another contact. The contact name must be "
            "unique across all active contacts."
        )
    if str(doc.get("ContactStatus")) not in ("ACTIVE", "ARCHIVED"):
        errors.append("ContactStatus must be ACTIVE or ARCHIVED")
    if errors:
        return refused(element, errors)
    doc["Name"] = name
    doc.setdefault("IsSupplier", False)
    doc.setdefault("IsCustomer", False)
    doc.setdefault("HasAttachments", False)
    return commit(ctx, "Contacts", doc)


def save_item(ctx: SaveContext, element: dict[str, Any]) -> Saved:
    existing, problem = _existing(ctx, "Items", element, "ItemID", "Code")
    if problem:
        return refused(element, [problem])
    doc = copy.deepcopy(existing) if existing else {}
    doc.update({k: element[k] for k in _ITEM_FIELDS if k in element})
    code = str(doc.get("Code") or "").strip()
    errors = []
    if not code:
        errors.append("Item code must be specified")
    elif len(code) > 30:
        errors.append("Item code must be 30 characters or fewer")
    clash = ctx.org.find("Items", "Code", code) if code else None
    if clash is not None and clash is not existing:
        errors.append(f"Item code '{code}' already exists")
    if len(str(doc.get("Name") or "")) > 50:
        errors.append("Item name must be 50 characters or fewer")
    for details in ("SalesDetails", "PurchaseDetails"):
        account = (doc.get(details) or {}).get("AccountCode")
        if account and ctx.org.account(code=str(account)) is None:
            errors.append(f"Account code '{account}' is not a valid code for this document.")
    if errors:
        return refused(element, errors)
    doc["Code"] = code
    doc.setdefault("Name", code)
    doc["IsSold"] = bool(doc.get("SalesDetails"))
    doc["IsPurchased"] = bool(doc.get("PurchaseDetails"))
    doc.setdefault("IsTrackedAsInventory", False)
    return commit(ctx, "Items", doc)
