"""App contacts <-> QBO Customers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.quickbooks.mapping_common import FAILED, MappingError
from sierra_core.db.models.app import Contact

__all__ = ["contact_to_customer", "customer_to_contact_values"]

# QBO field limits that the app's columns can exceed (QBO answers 2020/6000 otherwise).
_LIMITS = {"DisplayName": 500, "CompanyName": 100, "GivenName": 100, "FamilyName": 100, "Notes": 2000}
_WHAT = {
    "DisplayName": "name",
    "CompanyName": "company name",
    "GivenName": "first name",
    "FamilyName": "last name",
    "Notes": "note",
}
_EMAIL_LIMIT = 100
_PHONE_LIMIT = 30

_ADDRESS = (
    ("bill_line1", "Line1"),
    ("bill_line2", "Line2"),
    ("bill_city", "City"),
    ("bill_region", "CountrySubDivisionCode"),
    ("bill_postal_code", "PostalCode"),
    ("bill_country", "Country"),
)


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _too_long(contact: Contact, what: str, limit: int) -> MappingError:
    return MappingError(
        f"{FAILED}Customer '{contact.display_name}': its {what} is longer than QuickBooks allows "
        f"({limit} characters). Shorten it in the app.",
        code="invalid_value",
    )


def contact_to_customer(contact: Contact, *, create: bool = True) -> dict[str, Any]:
    """A QBO Customer body for a contact (create form; `create=False` for updates: no CurrencyRef).

    Pass the result to `sparse_update` for an update. Empty app fields are left out rather than sent empty,
    and an inactive or deleted contact becomes `Active: false` (QBO's way of deleting a customer).
    """
    display = _text(contact.display_name)
    if display is None:
        raise MappingError(
            f"{FAILED}a customer has no display name. Give it a name in the app.", code="invalid_value"
        )
    body: dict[str, Any] = {"DisplayName": display}
    for key, value in (
        ("CompanyName", contact.company_name),
        ("GivenName", contact.given_name),
        ("FamilyName", contact.family_name),
    ):
        if (text := _text(value)) is not None:
            body[key] = text
    for key, limit in _LIMITS.items():
        if key in body and len(body[key]) > limit:
            raise _too_long(contact, _WHAT[key], limit)
    if (email := _text(contact.email)) is not None:
        if len(email) > _EMAIL_LIMIT:
            raise _too_long(contact, "email address", _EMAIL_LIMIT)
        body["PrimaryEmailAddr"] = {"Address": email}
    if (phone := _text(contact.phone)) is not None:
        if len(phone) > _PHONE_LIMIT:
            raise _too_long(contact, "phone number", _PHONE_LIMIT)
        body["PrimaryPhone"] = {"FreeFormNumber": phone}
    address = {qbo: text for col, qbo in _ADDRESS if (text := _text(getattr(contact, col))) is not None}
    if address:
        body["BillAddr"] = address
    if (notes := _text(contact.notes)) is not None:
        if len(notes) > _LIMITS["Notes"]:
            raise _too_long(contact, "note", _LIMITS["Notes"])
        body["Notes"] = notes
    body["Active"] = contact.is_active is not False and contact.deleted_at is None
    if create and contact.currency:
        body["CurrencyRef"] = {"value": contact.currency}
    return body


def _field(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return _text(value) if isinstance(value, str) else None


def _sub(obj: Mapping[str, Any], key: str, inner: str) -> str | None:
    part = obj.get(key)
    return _field(part, inner) if isinstance(part, Mapping) else None


def customer_to_contact_values(qbo_customer: Mapping[str, Any]) -> dict[str, Any]:
    """Contact column values from a QBO Customer.

    A full object (`sparse: false`) gives every column (absent fields become None). A partial object from a
    column query (`sparse: true`) gives only the columns whose fields it carries. Address lines 3-5 are
    joined into bill_line2 (the app has two street lines) so nothing is lost.
    """
    full = qbo_customer.get("sparse") is not True
    values: dict[str, Any] = {}

    def put(column: str, present: bool, value: Any) -> None:
        if full or present:
            values[column] = value

    c = qbo_customer
    put("display_name", "DisplayName" in c, _text(c.get("DisplayName")))
    put("company_name", "CompanyName" in c, _text(c.get("CompanyName")))
    put("given_name", "GivenName" in c, _text(c.get("GivenName")))
    put("family_name", "FamilyName" in c, _text(c.get("FamilyName")))
    put("email", "PrimaryEmailAddr" in c, _sub(c, "PrimaryEmailAddr", "Address"))
    phone = _sub(c, "PrimaryPhone", "FreeFormNumber") or _sub(c, "Mobile", "FreeFormNumber")
    put("phone", "PrimaryPhone" in c or "Mobile" in c, phone)
    put("notes", "Notes" in c, _text(c.get("Notes")))
    if "Active" in c or full:
        values["is_active"] = c.get("Active") is not False
    if isinstance(c.get("CurrencyRef"), Mapping) and c["CurrencyRef"].get("value"):
        values["currency"] = str(c["CurrencyRef"]["value"])
    addr = c.get("BillAddr")
    addr = addr if isinstance(addr, Mapping) else {}
    if full or any(k != "Id" for k in addr):  # a column query answers with a stub {"Id": ...}
        street2 = [t for k in ("Line2", "Line3", "Line4", "Line5") if (t := _field(addr, k))]
        values["bill_line1"] = _field(addr, "Line1")
        values["bill_line2"] = ", ".join(street2) or None
        values["bill_city"] = _field(addr, "City")
        values["bill_region"] = _field(addr, "CountrySubDivisionCode")
        values["bill_postal_code"] = _field(addr, "PostalCode")
        values["bill_country"] = _field(addr, "Country")
    if full:
        values["contact_type"] = "customer"
    return values
