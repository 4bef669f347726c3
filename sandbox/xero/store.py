"""The organisations (tenants) of the Xero sandbox and the documents of each, seeded like a new Xero
organisation: a chart of accounts (090 Business Bank Account, 200 Sales, 400 Advertising, ...), New
Zealand's GST tax rates and one contact."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from starlette.responses import Response

__all__ = ["ID_FIELDS", "PAGED", "Organisation", "new_id"]

# resource -> the field that names one document
ID_FIELDS = {
    "Contacts": "ContactID",
    "Invoices": "InvoiceID",
    "Payments": "PaymentID",
    "Items": "ItemID",
    "Accounts": "AccountID",
    "TaxRates": "TaxType",
    "BankTransactions": "BankTransactionID",
    "TrackingCategories": "TrackingCategoryID",
}
PAGED = frozenset({"Contacts", "Invoices", "Payments", "BankTransactions"})

_ACCOUNTS = (
    ("090", "Business Bank Account", "BANK", "NONE"),
    ("091", "Business Savings Account", "BANK", "NONE"),
    ("200", "Sales", "REVENUE", "OUTPUT2"),
    ("260", "Other Revenue", "REVENUE", "OUTPUT2"),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "INPUT2"),
    ("400", "Advertising", "EXPENSE", "INPUT2"),
    ("429", "General Expenses", "EXPENSE", "INPUT2"),
    ("610", "Accounts Receivable", "CURRENT", "NONE"),
    ("800", "Accounts Payable", "CURRLIAB", "NONE"),
    ("820", "GST", "CURRLIAB", "NONE"),
)
_TAX_RATES = (
    ("OUTPUT2", "15% GST on Income", "15.0000", True, False),
    ("INPUT2", "15% GST on Expenses", "15.0000", False, True),
    ("ZERORATED", "Zero Rated", "0.0000", True, True),
    ("GSTONIMPORTS", "GST on Imports", "0.0000", False, True),
    ("NONE", "No GST", "0.0000", True, True),
)


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Organisation:
    """One Xero organisation: its documents by resource and id, its counters and replayable answers."""

    tenant_id: str
    name: str
    created_ms: str
    docs: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)
    replies: dict[str, tuple[str, Response]] = field(default_factory=dict)  # Idempotency-Key -> answer
    journals: list[dict[str, Any]] = field(default_factory=list)  # the general ledger, numbered from 1
    day: str = ""
    day_calls: int = 0

    def __post_init__(self) -> None:
        for resource in ID_FIELDS:
            self.docs.setdefault(resource, {})

    def next_number(self, prefix: str) -> str:
        self.numbers[prefix] = self.numbers.get(prefix, 0) + 1
        return f"{prefix}-{self.numbers[prefix]:04d}"

    def account(self, code: str | None = None, account_id: str | None = None) -> dict[str, Any] | None:
        for account in self.docs["Accounts"].values():
            if (code is not None and account.get("Code") == code) or (
                account_id is not None and account["AccountID"] == account_id
            ):
                return account
        return None

    def find(self, resource: str, key: str, value: Any) -> dict[str, Any] | None:
        """The first document whose `key` equals `value` (case-insensitive for text)."""
        wanted = str(value).strip().lower()
        for doc in self.docs[resource].values():
            if str(doc.get(key, "")).strip().lower() == wanted and doc.get("Status") not in ("DELETED",):
                return doc
        return None

    def tax_rate(self, tax_type: str) -> Decimal | None:
        rate = self.docs["TaxRates"].get(tax_type)
        return Decimal(str(rate["EffectiveRate"])) if rate is not None else None

    def seed(self, updated: str) -> None:
        """A new organisation's chart of accounts, tax rates and one customer."""
        for code, name, kind, tax in _ACCOUNTS:
            account_id = new_id()
            self.docs["Accounts"][account_id] = {
                "AccountID": account_id,
                "Code": code,
                "Name": name,
                "Type": kind,
                "TaxType": tax,
                "Status": "ACTIVE",
                "Class": _CLASS[kind],
                "EnablePaymentsToAccount": False,
                "UpdatedDateUTC": updated,
            }
            if kind == "BANK":
                self.docs["Accounts"][account_id] |= {"BankAccountType": "BANK", "CurrencyCode": "NZD"}
        for tax_type, name, rate, revenue, expenses in _TAX_RATES:
            self.docs["TaxRates"][tax_type] = {
                "Name": name,
                "TaxType": tax_type,
                "Status": "ACTIVE",
                "ReportTaxType": "OUTPUT" if revenue and not expenses else "INPUT" if expenses else "NONE",
                "CanApplyToAssets": True,
                "CanApplyToEquity": True,
                "CanApplyToExpenses": expenses,
                "CanApplyToLiabilities": True,
                "CanApplyToRevenue": revenue,
                "DisplayTaxRate": Decimal(rate),
                "EffectiveRate": Decimal(rate),
                "TaxComponents": [
                    {"Name": "GST", "Rate": Decimal(rate), "IsCompound": False, "IsNonRecoverable": False}
                ],
            }
        contact_id = new_id()
        self.docs["Contacts"][contact_id] = {
            "ContactID": contact_id,
            "ContactStatus": "ACTIVE",
            "Name": "Ridgeway Developments",
            "EmailAddress": "accounts@ridgeway.example",
            "Addresses": [],
            "Phones": [],
            "IsSupplier": False,
            "IsCustomer": True,
            "HasAttachments": False,
            "UpdatedDateUTC": updated,
        }


_CLASS = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "REVENUE": "REVENUE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "CURRLIAB": "LIABILITY",
}
