"""The lists of the sample company beyond seed.SAMPLE: Intuit's US sample company (Craig's Design and
Landscaping Services) as its API shows it, with its ids where they are known.

A full chart of accounts (bank, savings, Visa, inventory asset, fixed assets, liabilities, equity, income
and expense accounts with sub-accounts), service, non-inventory and inventory items, customers (with jobs),
vendors, employees, terms, payment methods, tax agencies and a second tax code. Bodies go through the normal
validation (names, references, FullyQualifiedName) when seeded.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

__all__ = ["CURRENCIES", "lists"]

# (code, rate in the home currency USD): the currencies of a multicurrency sample company.
CURRENCIES = (("1", "CAD", "0.73"), ("2", "EUR", "1.08"), ("3", "GBP", "1.27"))

_ACCOUNTS: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("3", "Prepaid Expenses", "Other Current Asset", "PrepaidExpenses", None),
    ("8", "Bank Charges", "Expense", "BankCharges", None),
    ("10", "Dues & Subscriptions", "Expense", "DuesSubscriptions", None),
    ("11", "Insurance", "Expense", "Insurance", None),
    ("12", "Legal & Professional Fees", "Expense", "LegalProfessionalFees", None),
    ("13", "Meals and Entertainment", "Expense", "EntertainmentMeals", None),
    ("14", "Office Expenses", "Expense", "OfficeGeneralAdministrativeExpenses", None),
    ("17", "Rent or Lease", "Expense", "RentOrLeaseOfBuildings", None),
    ("24", "Utilities", "Expense", "Utilities", None),
    ("30", "Uncategorized Income", "Income", "ServiceFeeIncome", None),
    ("31", "Uncategorized Expense", "Expense", "OtherMiscellaneousServiceCost", None),
    ("32", "Uncategorized Asset", "Other Current Asset", "OtherCurrentAssets", None),
    ("34", "Opening Balance Equity", "Equity", "OpeningBalanceEquity", None),
    ("36", "Savings", "Bank", "Savings", None),
    ("37", "Truck", "Fixed Asset", "Vehicles", None),
    ("38", "Original Cost", "Fixed Asset", "Vehicles", "37"),
    ("39", "Depreciation", "Fixed Asset", "AccumulatedDepreciation", "37"),
    ("42", "Visa", "Credit Card", "CreditCard", None),
    ("43", "Notes Payable", "Long Term Liability", "OtherLongTermLiabilities", None),
    ("44", "Loan Payable", "Other Current Liability", "LoanPayable", None),
    ("49", "Plants and Soil", "Income", "ServiceFeeIncome", "46"),
    ("50", "Sprinklers and Drip Systems", "Income", "ServiceFeeIncome", "46"),
    ("54", "Pest Control Services", "Income", "OtherPrimaryIncome", None),
    ("55", "Automobile", "Expense", "Auto", None),
    ("56", "Fuel", "Expense", "Auto", "55"),
    ("76", "Gas and Electric", "Expense", "Utilities", "24"),
    ("77", "Telephone", "Expense", "Utilities", "24"),
    ("81", "Inventory Asset", "Other Current Asset", "Inventory", None),
    ("82", "Design income", "Income", "ServiceFeeIncome", None),
    ("83", "Other Income", "Other Income", "OtherMiscellaneousIncome", None),
    ("89", "Board of Equalization Payable", "Other Current Liability", "SalesTaxPayable", None),
    ("90", "Retained Earnings", "Equity", "RetainedEarnings", None),
)

# (id, name, description, unit price, income account, taxable)
_SERVICES: tuple[tuple[str, str, str, str, str, bool], ...] = (
    ("2", "Hours", "", "0", "1", False),
    ("4", "Design", "Custom Design", "75", "82", False),
    ("6", "Gardening", "Weekly Gardening Service", "0", "45", False),
    ("7", "Installation", "Installation of landscape design", "50", "45", False),
    ("8", "Lighting", "Garden Lighting", "0", "48", True),
    ("9", "Maintenance & Repair", "Maintenance & Repair", "0", "45", False),
    ("10", "Pest Control", "Pest Control Services", "35", "54", False),
    ("13", "Rocks", "Garden Rocks", "0", "48", True),
    ("14", "Sod", "Sod", "0", "49", True),
    ("15", "Soil", "2 cubic ft. bag", "10", "49", True),
    ("18", "Trimming", "Tree and Shrub Trimming", "35", "45", False),
)

# (id, display name, parent id, extra fields)
_CUSTOMERS: tuple[tuple[str, str, str | None, dict[str, Any]], ...] = (
    ("2", "Bill's Windsurf Shop", None, {"CompanyName": "Bill's Windsurf Shop", "GivenName": "Bill"}),
    (
        "3",
        "Cool Cars",
        None,
        {
            "CompanyName": "Cool Cars",
            "GivenName": "Grace",
            "FamilyName": "Pariente",
            "BillAddr": {
                "Line1": "65 Ocean Dr.",
                "City": "Half Moon Bay",
                "CountrySubDivisionCode": "CA",
                "PostalCode": "94213",
            },
        },
    ),
    ("4", "Diego Rodriguez", None, {"GivenName": "Diego", "FamilyName": "Rodriguez"}),
    ("5", "Dukes Basketball Camp", None, {"CompanyName": "Dukes Basketball Camp", "GivenName": "Peter"}),
    ("6", "Dylan Sollfrank", None, {"GivenName": "Dylan", "FamilyName": "Sollfrank"}),
    ("7", "Freeman Sporting Goods", None, {"CompanyName": "Freeman Sporting Goods", "GivenName": "Sasha"}),
    ("8", "0969 Ocean View Road", "7", {"CompanyName": "Freeman Sporting Goods"}),
    ("9", "55 Twin Lane", "7", {"CompanyName": "Freeman Sporting Goods"}),
    ("10", "Geeta Kalapatapu", None, {"GivenName": "Geeta", "FamilyName": "Kalapatapu"}),
    ("11", "Gevelber Photography", None, {"CompanyName": "Gevelber Photography", "GivenName": "Lisa"}),
    (
        "12",
        "Jeff's Jalopies",
        None,
        {"CompanyName": "Jeff's Jalopies", "GivenName": "Jeff", "FamilyName": "Chin"},
    ),
    ("13", "John Melton", None, {"GivenName": "John", "FamilyName": "Melton"}),
    ("14", "Kate Whelan", None, {"GivenName": "Kate", "FamilyName": "Whelan"}),
    ("15", "Kookies by Kathy", None, {"CompanyName": "Kookies by Kathy", "GivenName": "Kathy"}),
    ("16", "Mark Cho", None, {"GivenName": "Mark", "FamilyName": "Cho"}),
    (
        "17",
        "Paulsen Medical Supplies",
        None,
        {"CompanyName": "Paulsen Medical Supplies", "GivenName": "Kathy"},
    ),
    ("18", "Pye's Cakes", None, {"CompanyName": "Pye's Cakes", "GivenName": "Karen", "FamilyName": "Pye"}),
    ("19", "Rago Travel Agency", None, {"CompanyName": "Rago Travel Agency", "GivenName": "Nicola"}),
    ("20", "Red Rock Diner", None, {"CompanyName": "Red Rock Diner", "GivenName": "Stephanie"}),
    (
        "21",
        "Rondonuwu Fruit and Vegi",
        None,
        {"CompanyName": "Rondonuwu Fruit and Vegi", "GivenName": "Tony"},
    ),
    ("22", "Shara Barnett", None, {"GivenName": "Shara", "FamilyName": "Barnett"}),
    ("23", "Barnett Design", "22", {"CompanyName": "Barnett Design"}),
    (
        "24",
        "Sonnenschein Family Store",
        None,
        {"CompanyName": "Sonnenschein Family Store", "GivenName": "Russ"},
    ),
    ("25", "Sushi by Katsuyuki", None, {"CompanyName": "Sushi by Katsuyuki", "GivenName": "Katsuyuki"}),
    (
        "26",
        "Travis Waldron",
        None,
        {
            "GivenName": "Travis",
            "FamilyName": "Waldron",
            "BillAddr": {
                "Line1": "78 First St.",
                "City": "Monlo Park",
                "CountrySubDivisionCode": "CA",
                "PostalCode": "94304",
            },
        },
    ),
    ("27", "Video Games by Dan", None, {"CompanyName": "Video Games by Dan", "GivenName": "Dan"}),
    ("28", "Wedding Planning by Whitney", None, {"CompanyName": "Wedding Planning by Whitney"}),
    ("29", "Weiskopf Consulting", None, {"CompanyName": "Weiskopf Consulting", "GivenName": "Nicola"}),
)

# (id, display name, 1099 vendor)
_VENDORS: tuple[tuple[str, str, bool], ...] = (
    ("30", "Books by Bessie", True),
    ("31", "Brosnahan Insurance Agency", False),
    ("32", "Cal Telephone", False),
    ("33", "Chin's Gas and Oil", False),
    ("34", "Cigna Health Care", False),
    ("35", "Computers by Jenni", False),
    ("36", "Diego's Road Warrior Bodyshop", False),
    ("37", "EDD", False),
    ("38", "Ellis Equipment Rental", True),
    ("39", "Fidelity", False),
    ("40", "Hall Properties", True),
    ("41", "Hicks Hardware", False),
    ("42", "Lee Advertising", True),
    ("43", "Mahoney Mugs", False),
    ("44", "Met Life Dental", False),
    ("46", "Norton Lumber and Building Materials", False),
    ("47", "PG&E", False),
    ("48", "Pam Seitz", True),
    ("49", "Squeaky Kleen Car Wash", False),
    ("50", "Tim Philip Masonry", True),
    ("51", "Tony Rondonuwu", True),
    ("52", "United States Treasury", False),
    ("57", "Tania's Nursery", False),
)


def _inventory(item_id: str, name: str, price: str, cost: str, qty: int, start: str) -> dict[str, Any]:
    return {
        "Id": item_id,
        "Name": name,
        "Description": name,
        "Type": "Inventory",
        "Taxable": True,
        "UnitPrice": price,
        "IncomeAccountRef": {"value": "79"},
        "PurchaseDesc": name,
        "PurchaseCost": cost,
        "ExpenseAccountRef": {"value": "80"},
        "AssetAccountRef": {"value": "81", "name": "Inventory Asset"},
        "TrackQtyOnHand": True,
        "QtyOnHand": qty,
        "InvStartDate": start,
    }


def lists(today: date) -> list[tuple[str, dict[str, Any]]]:
    """(entity, body) pairs to seed, in dependency order (parents and references first)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for acct_id, name, kind, sub, parent in _ACCOUNTS:
        body: dict[str, Any] = {"Id": acct_id, "Name": name, "AccountType": kind, "AccountSubType": sub}
        if parent:
            body["ParentRef"] = {"value": parent}
        out.append(("Account", body))
    for term_id, name, days in (("1", "Due on receipt", 0), ("2", "Net 10", 10), ("4", "Net 60", 60)):
        out.append(("Term", {"Id": term_id, "Name": name, "Type": "STANDARD", "DueDays": days}))
    for method_id, name in (("3", "Diners Club"), ("4", "Discover"), ("5", "MasterCard"), ("7", "Visa")):
        out.append(("PaymentMethod", {"Id": method_id, "Name": name, "Type": "CREDIT_CARD"}))
    for item_id, name, desc, price, income, taxable in _SERVICES:
        item: dict[str, Any] = {"Id": item_id, "Name": name, "Type": "Service", "UnitPrice": price}
        item |= {"IncomeAccountRef": {"value": income}, "Taxable": taxable}
        out.append(("Item", item | ({"Description": desc} if desc else {})))
    out.append(
        (
            "Item",
            {
                "Id": "12",
                "Name": "Refunds & Allowances",
                "Type": "NonInventory",
                "IncomeAccountRef": {"value": "83"},
            },
        )
    )
    start = (today - timedelta(days=365)).isoformat()
    out.append(("Item", _inventory("16", "Sprinkler Heads", "2", "0.75", 25, start)))
    out.append(("Item", _inventory("17", "Sprinkler Pipes", "4", "2.5", 31, start)))
    for cust_id, name, parent, extra in _CUSTOMERS:
        body = {"Id": cust_id, "DisplayName": name, "Taxable": False, **extra}
        if parent:
            body |= {"ParentRef": {"value": parent}, "BillWithParent": True}
        out.append(("Customer", body))
    for vend_id, name, is_1099 in _VENDORS:
        out.append(
            ("Vendor", {"Id": vend_id, "DisplayName": name, "CompanyName": name, "Vendor1099": is_1099})
        )
    for emp_id, given, family in (("54", "John", "Johnson"), ("55", "Emily", "Platt")):
        out.append(("Employee", {"Id": emp_id, "GivenName": given, "FamilyName": family}))
    for agency_id, name in (("1", "Arizona Dept. of Revenue"), ("2", "Board of Equalization")):
        out.append(
            ("TaxAgency", {"Id": agency_id, "DisplayName": name, "TaxAgencyConfig": "SYSTEM_GENERATED"})
        )
    for rate_id, name, value in (("1", "AZ State tax", "7.1"), ("2", "Tucson City", "2")):
        out.append(
            (
                "TaxRate",
                {
                    "Id": rate_id,
                    "Name": name,
                    "Description": "Sales Tax",
                    "RateValue": value,
                    "AgencyRef": {"value": "1"},
                },
            )
        )
    tucson = [
        {"TaxRateRef": {"value": r, "name": n}, "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0}
        for r, n in (("1", "AZ State tax"), ("2", "Tucson City"))
    ]
    out.append(
        (
            "TaxCode",
            {
                "Id": "3",
                "Name": "Tucson",
                "Description": "Tucson",
                "Taxable": True,
                "TaxGroup": True,
                "SalesTaxRateList": {"TaxRateDetail": tucson},
                "PurchaseTaxRateList": {"TaxRateDetail": []},
            },
        )
    )
    return out
