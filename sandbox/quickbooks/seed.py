"""A new company's starting books, modelled on Intuit's US sample company (same ids where known).

Three kinds of books (`BOOKS`): "sample" (the lists below and in sample_lists.py, plus the transactions of
sample_txns.py), "lists" (the same lists, no transactions) and "empty" (nothing). Every company has its
Preferences, whatever its books.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sandbox.quickbooks import exchange, recurring
from sandbox.quickbooks.entities import Ctx, Engine
from sandbox.quickbooks.preferences import default_preferences
from sandbox.quickbooks.sample_lists import CURRENCIES, lists
from sandbox.quickbooks.sample_txns import attachables, templates, transactions
from sandbox.quickbooks.txnbase import today

__all__ = ["BOOKS", "DEFAULT_CUSTOM_FIELDS", "SAMPLE", "seed_realm"]

BOOKS = ("sample", "lists", "empty")

DEFAULT_CUSTOM_FIELDS: list[dict[str, Any]] = [{"DefinitionId": "1", "Name": "Crew #", "Type": "StringType"}]
COMPANY_ADDR: dict[str, Any] = {"Line1": "123 Sierra Way", "Line2": "San Pablo, CA  87999 USA"}


def _acct(
    acct_id: str, name: str, account_type: str, sub_type: str, parent: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Id": acct_id,
        "Name": name,
        "AccountType": account_type,
        "AccountSubType": sub_type,
    }
    if parent:
        body["ParentRef"] = {"value": parent}
    return body


SAMPLE: list[tuple[str, dict[str, Any]]] = [
    ("Account", _acct("1", "Services", "Income", "ServiceFeeIncome")),
    ("Account", _acct("4", "Undeposited Funds", "Other Current Asset", "UndepositedFunds")),
    ("Account", _acct("7", "Advertising", "Expense", "AdvertisingPromotional")),
    ("Account", _acct("33", "Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable")),
    ("Account", _acct("35", "Checking", "Bank", "Checking")),
    ("Account", _acct("41", "Mastercard", "Credit Card", "CreditCard")),
    ("Account", _acct("45", "Landscaping Services", "Income", "ServiceFeeIncome")),
    ("Account", _acct("46", "Job Materials", "Income", "ServiceFeeIncome", "45")),
    ("Account", _acct("48", "Fountains and Garden Lighting", "Income", "ServiceFeeIncome", "46")),
    ("Account", _acct("79", "Sales of Product Income", "Income", "SalesOfProductIncome")),
    ("Account", _acct("80", "Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs")),
    ("Account", _acct("84", "Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable")),
    ("Account", _acct("86", "Discounts given", "Income", "DiscountsRefundsGiven")),
    (
        "TaxRate",
        {
            "Id": "3",
            "Name": "California",
            "Description": "Sales Tax",
            "RateValue": 8,
            "AgencyRef": {"value": "1"},
        },
    ),
    ("TaxCode", {"Id": "TAX", "Name": "TAX", "Description": "TAX", "Taxable": True, "TaxGroup": False}),
    ("TaxCode", {"Id": "NON", "Name": "NON", "Description": "NON", "Taxable": False, "TaxGroup": False}),
    (
        "TaxCode",
        {
            "Id": "CustomSalesTax",
            "Name": "CustomSalesTax",
            "Description": "CustomSalesTax",
            "Taxable": True,
            "TaxGroup": False,
        },
    ),
    (
        "TaxCode",
        {
            "Id": "2",
            "Name": "California",
            "Description": "California",
            "Taxable": True,
            "TaxGroup": True,
            "SalesTaxRateList": {
                "TaxRateDetail": [
                    {
                        "TaxRateRef": {"value": "3", "name": "California"},
                        "TaxTypeApplicable": "TaxOnAmount",
                        "TaxOrder": 0,
                    }
                ]
            },
            "PurchaseTaxRateList": {"TaxRateDetail": []},
        },
    ),
    ("Term", {"Id": "3", "Name": "Net 30", "Type": "STANDARD", "DueDays": 30}),
    ("PaymentMethod", {"Id": "1", "Name": "Cash", "Type": "NON_CREDIT_CARD"}),
    ("PaymentMethod", {"Id": "2", "Name": "Check", "Type": "NON_CREDIT_CARD"}),
    ("PaymentMethod", {"Id": "6", "Name": "American Express", "Type": "CREDIT_CARD"}),
    (
        "Item",
        {
            "Id": "1",
            "Name": "Services",
            "Type": "Service",
            "UnitPrice": 0,
            "IncomeAccountRef": {"value": "1"},
        },
    ),
    (
        "Item",
        {
            "Id": "3",
            "Name": "Concrete",
            "Description": "Concrete for fountain installation",
            "Type": "Service",
            "Taxable": True,
            "UnitPrice": 0,
            "IncomeAccountRef": {"value": "48"},
            "TaxClassificationRef": {"value": "EUC-99990202-V1-00020000"},
        },
    ),
    (
        "Item",
        {
            "Id": "5",
            "Name": "Rock Fountain",
            "Type": "Service",
            "Taxable": True,
            "UnitPrice": 275,
            "IncomeAccountRef": {"value": "79"},
        },
    ),
    (
        "Item",
        {
            "Id": "11",
            "Name": "Pump",
            "Type": "Service",
            "Taxable": True,
            "UnitPrice": "12.75",
            "IncomeAccountRef": {"value": "79"},
        },
    ),
    (
        "Customer",
        {
            "Id": "1",
            "DisplayName": "Amy's Bird Sanctuary",
            "GivenName": "Amy",
            "FamilyName": "Lauterbach",
            "CompanyName": "Amy's Bird Sanctuary",
            "Taxable": True,
            "BillAddr": {
                "Line1": "4581 Finch St.",
                "City": "Bayshore",
                "CountrySubDivisionCode": "CA",
                "PostalCode": "94326",
            },
            "ShipAddr": {
                "Line1": "4581 Finch St.",
                "City": "Bayshore",
                "CountrySubDivisionCode": "CA",
                "PostalCode": "94326",
            },
        },
    ),
    ("Vendor", {"Id": "56", "DisplayName": "Bob's Burger Joint"}),
]


def _lists(engine: Engine, day: date) -> None:
    for entity, body in SAMPLE + lists(day):
        engine.create(entity, body, seed=True)
    if engine.ctx.multicurrency:
        for currency_id, code, rate in CURRENCIES:
            engine.create("CompanyCurrency", {"Id": currency_id, "Code": code}, seed=True)
            body = {"SourceCurrencyCode": code, "Rate": rate, "AsOfDate": day.isoformat()}
            exchange.set_rate(engine, body, "create")


def _transactions(engine: Engine, day: date) -> None:
    for entity, body in transactions(day) + attachables():
        engine.create(entity, body, seed=True)
    for template in templates(day):
        recurring.write_template(engine, template, "create")


def seed_realm(ctx: Ctx, books: str = "sample") -> None:
    """Fill a new realm: company address, custom fields, preferences and the books asked for (`BOOKS`)."""
    if books not in BOOKS:
        raise ValueError(f"books must be one of {', '.join(BOOKS)}")
    realm = ctx.realm
    realm.company_addr = dict(COMPANY_ADDR)
    if not realm.custom_fields:
        realm.custom_fields = [dict(x) for x in DEFAULT_CUSTOM_FIELDS]
    engine = Engine(ctx)
    engine.create("Preferences", default_preferences(realm, ctx.multicurrency), seed=True)
    day = date.fromisoformat(today(ctx))
    if books in ("sample", "lists"):
        _lists(engine, day)
    if books == "sample":
        _transactions(engine, day)
    ctx.events.clear()  # seeding is not a change anybody is notified of
    ctx.store.save_realm(realm)
