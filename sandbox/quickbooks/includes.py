"""The `include=` query parameter: `allowduplicatedocnum`, `void` (a void sent as a sparse update) and
`invoiceLink` (an invoice's sharable payment link, returned only when asked for).

Values are comma-separated and case-insensitive (`include=invoiceLink`, `include=void`). Unknown values are
ignored, as Intuit ignores include values an operation does not use.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

__all__ = ["ALLOW_DUPLICATE_DOCNUM", "INVOICE_LINK", "VOID", "invoice_link", "parse_include", "with_links"]

ALLOW_DUPLICATE_DOCNUM = "allowduplicatedocnum"
VOID = "void"
INVOICE_LINK = "invoicelink"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LINK_BASE = "https://connect.intuit.com/portal/app/CommerceNetwork/view/"


def parse_include(value: str | None) -> frozenset[str]:
    """The lower-case values of an `include` parameter (`"void, invoiceLink"` -> {"void", "invoicelink"})."""
    if not value:
        return frozenset()
    return frozenset(part.strip().lower() for part in value.split(",") if part.strip())


def invoice_link(realm_id: str, invoice: dict[str, Any], online_payments: bool) -> str | None:
    """The sharable link of an invoice, or None when QBO issues none.

    Intuit issues one only when the company takes online payments (QuickBooks Payments), the invoice allows
    an online card or bank payment, and it has a valid BillEmail. The sandbox's link has Intuit's form and
    is stable per realm and invoice; it leads nowhere.
    """
    if not online_payments:
        return None
    if not (invoice.get("AllowOnlineCreditCardPayment") or invoice.get("AllowOnlineACHPayment")):
        return None
    email = invoice.get("BillEmail")
    address = email.get("Address") if isinstance(email, dict) else None
    if not isinstance(address, str) or not _EMAIL.match(address.strip()):
        return None
    token = hashlib.sha256(f"{realm_id}:{invoice.get('Id')}".encode()).hexdigest()[:48]
    return f"{LINK_BASE}scs-v1-{token}?locale=en_US"


def with_links(realm_id: str, invoice: dict[str, Any], online_payments: bool) -> dict[str, Any]:
    """A copy of an invoice carrying `InvoiceLink` when it has one (the stored invoice is not changed)."""
    link = invoice_link(realm_id, invoice, online_payments)
    if link is None:
        return invoice
    return {**invoice, "InvoiceLink": link}
