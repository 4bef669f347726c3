"""Request documents as clients write them, read the way QBO reads them before validating anything.

SDKs serialise every attribute of their object model, so real requests carry `"TxnDate": ""`,
`"TotalAmt": ""`, `"InvoiceLink": ""`, `"SyncToken": 0` and `"DocNumber": 1001`. QBO's JSON reader treats
an empty string as no value, silently ignores read-only attributes ("values supplied for read-only
attributes are ignored"; TotalAmt: "any value you supply is over-written"), and reads a number sent for a
text attribute as its text. `client_document` applies those three rules, at every depth, and nothing else:
whatever is still wrong afterwards (a malformed date, a missing required field) gets the usual fault.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

__all__ = ["SYSTEM_KEYS", "TEXT_KEYS", "client_document", "merge_sparse"]

# Attributes every entity carries that a client never sets.
SYSTEM_KEYS = frozenset({"domain", "sparse", "Id", "SyncToken", "MetaData", "status"})

# Attributes whose type is String in Intuit's schema (wherever they appear) and that clients are seen to send
# as JSON numbers: references' value/name, numbers of documents and accounts, address and phone parts.
TEXT_KEYS = frozenset(
    {
        "value",
        "name",
        "Id",
        "SyncToken",
        "TxnId",
        "DefinitionId",
        "StringValue",
        "DocNumber",
        "PaymentRefNum",
        "AcctNum",
        "TrackingNum",
        "CheckNum",
        "Sku",
        "Name",
        "DisplayName",
        "GivenName",
        "MiddleName",
        "FamilyName",
        "Suffix",
        "Title",
        "CompanyName",
        "PrintOnCheckName",
        "Description",
        "PurchaseDesc",
        "PrivateNote",
        "Notes",
        "Line1",
        "Line2",
        "Line3",
        "Line4",
        "Line5",
        "City",
        "Country",
        "CountrySubDivisionCode",
        "PostalCode",
        "FreeFormNumber",
        "EmployeeNumber",
        "ResaleNum",
        "PrimaryTaxIdentifier",
        "TaxIdentifier",
    }
)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_object(value: dict[str, Any]) -> dict[str, Any]:
    """A deep copy with empty strings dropped and numbers in text attributes made text, at every depth."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, str) and item == "":
            continue
        out[key] = _text(item) if key in TEXT_KEYS and _is_number(item) else _read(item)
    return out


def _read(value: Any) -> Any:
    if isinstance(value, dict):
        return _read_object(value)
    if isinstance(value, list):
        return [_read(item) for item in value]
    return copy.deepcopy(value)


def client_document(body: dict[str, Any], read_only: Iterable[str] = ()) -> dict[str, Any]:
    """The body as QBO reads it: no system or read-only attributes, `""` as no value, numbers as text where
    the attribute is text (see the module docstring)."""
    dropped = SYSTEM_KEYS | frozenset(read_only)
    return _read_object({k: v for k, v in body.items() if k not in dropped})


def merge_sparse(
    stored: dict[str, Any], body: dict[str, Any], read_only: Iterable[str] = ()
) -> dict[str, Any]:
    """A sparse update: the stored content with the attributes sent replaced; `""` clears an attribute."""
    dropped = SYSTEM_KEYS | frozenset(read_only)
    merged = {k: v for k, v in stored.items() if k not in dropped}
    merged.update({k: v for k, v in body.items() if k not in dropped})
    return _read_object(merged)
