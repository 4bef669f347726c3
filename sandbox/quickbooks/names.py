"""Name-list and list entities: Customer, Vendor, Employee, Item, Account, Class, Department, Term,
PaymentMethod, and the read-only TaxCode, TaxRate, CompanyCurrency (seeded by the sandbox, not the API).

Also the reference helpers the transaction module uses (`lookup`, `value_only`, `address`, `currency`).
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.quickbooks import faults
from sandbox.quickbooks.entities import Ctx, EntitySpec, LineIds, register
from sandbox.quickbooks.store import Record

__all__ = ["address", "currency", "lookup", "party_ref", "ref_id", "value_only"]

ADDR_ORDER = ("Id", "Line1", "Line2", "Line3", "Line4", "Line5", "City", "Country", "CountrySubDivisionCode")
NAME_GROUP = ("Customer", "Vendor", "Employee")
CURRENCY_NAMES = {
    "USD": "United States Dollar",
    "EUR": "Euro",
    "GBP": "British Pound Sterling",
    "CAD": "Canadian Dollar",
    "AUD": "Australian Dollar",
    "MXN": "Mexican Peso",
    "NZD": "New Zealand Dollar",
    "JPY": "Japanese Yen",
    "CHF": "Swiss Franc",
    "CNY": "Chinese Yuan Renminbi",
    "INR": "Indian Rupee",
    "SEK": "Swedish Krona",
    "NOK": "Norwegian Krone",
    "DKK": "Danish Krone",
    "ZAR": "South African Rand",
    "HKD": "Hong Kong Dollar",
    "SGD": "Singapore Dollar",
    "BRL": "Brazilian Real",
    "PHP": "Philippine Peso",
    "ANG": "Dutch Guilder",
}


# ---------------------------------------------------------------- reference helpers


PSEUDO_TAX_CODES = ("TAX", "NON", "CustomSalesTax")


def ref_id(ref: Any, element: str) -> str:
    """The `value` of a reference object; 2020 when missing."""
    if isinstance(ref, dict) and ref.get("value") not in (None, ""):
        return str(ref["value"])
    if isinstance(ref, str | int) and str(ref):
        return str(ref)
    raise faults.required(element)


def lookup(ctx: Ctx, entity: str, ref: Any, element: str) -> Record:
    """The live, active entity a reference points at; 610 otherwise (Intuit's answer for a bad reference)."""
    rec = ctx.realm.get(entity, ref_id(ref, element))
    if rec is None or rec.data.get("Active") is False:
        raise faults.not_found()
    return rec


def party_ref(ctx: Ctx, ref: Any, element: str) -> dict[str, Any]:
    """A reference to a customer, vendor or employee (`type` optional): `{value, name, type}`; 610 if none."""
    value = ref_id(ref, element)
    wanted = ref.get("type") if isinstance(ref, dict) else None
    for kind in (wanted,) if wanted in NAME_GROUP else NAME_GROUP:
        rec = ctx.realm.get(str(kind), value)
        if rec is not None and rec.data.get("Active") is not False:
            return {"value": value, "name": rec.data.get("DisplayName", ""), "type": kind}
    raise faults.not_found()


def value_only(ref: Any, element: str) -> dict[str, Any]:
    """A reference as QBO echoes TaxCodeRef/DepositToAccountRef/PaymentMethodRef: `{"value": ...}` only."""
    return {"value": ref_id(ref, element)}


def named_ref(rec: Record, name_key: str = "Name") -> dict[str, Any]:
    """`{"value", "name"}` of an entity."""
    return {"value": rec.data["Id"], "name": rec.data.get(name_key, "")}


def address(ctx: Ctx, given: Any, previous: Any) -> dict[str, Any]:
    """A PhysicalAddress with an `Id`: the previous one's Id when the slot had one, else a new one."""
    if not isinstance(given, dict):
        raise faults.invalid_property("Property Name:address must be an object")
    addr_id = None
    if isinstance(previous, dict) and previous.get("Id"):
        addr_id = str(previous["Id"])
    if given.get("Id"):
        addr_id = str(given["Id"])
    if addr_id is None:
        addr_id = ctx.realm.take_addr_id()
    out: dict[str, Any] = {"Id": addr_id}
    for key in ADDR_ORDER[1:]:
        if key in given:
            out[key] = given[key]
    for key, value in given.items():
        if key not in out:
            out[key] = value
    return out


def currency(ctx: Ctx, given: Any, previous: dict[str, Any] | None) -> dict[str, Any]:
    """CurrencyRef with its name: read-only once set; the home currency by default; 610 when unknown."""
    if previous is not None and isinstance(previous.get("CurrencyRef"), dict):
        return copy.deepcopy(previous["CurrencyRef"])
    home_code, home_name = ctx.realm.home_currency
    if given is None:
        return {"value": home_code, "name": home_name}
    code = ref_id(given, "CurrencyRef")
    if code == home_code:
        return {"value": home_code, "name": home_name}
    for rec in ctx.realm.live("CompanyCurrency"):
        if rec.data.get("Code") == code:
            return {"value": code, "name": rec.data.get("Name", CURRENCY_NAMES.get(code, code))}
    raise faults.not_found()


def _find_by_name(ctx: Ctx, entity: str, name: str, key: str = "Name") -> Record | None:
    for rec in ctx.realm.live(entity):
        if rec.data.get(key) == name:
            return rec
    return None


def account_ref(ctx: Ctx, given: Any, element: str, default_name: str | None) -> dict[str, Any] | None:
    """An account reference with the account's FullyQualifiedName; a named default when not given."""
    if given is None:
        if default_name is None:
            return None
        rec = _find_by_name(ctx, "Account", default_name)
        if rec is None:
            return None
        return named_ref(rec, "FullyQualifiedName")
    return named_ref(lookup(ctx, "Account", given, element), "FullyQualifiedName")


def default_tax_code(ctx: Ctx) -> str | None:
    """The company's default taxable sales tax code (a customer marked Taxable gets it)."""
    best: str | None = None
    for rec in ctx.realm.live("TaxCode"):
        code_id = str(rec.data.get("Id"))
        if rec.data.get("Taxable") and code_id.isdigit() and (best is None or int(code_id) < int(best)):
            best = code_id
    return best


def _require_name(body: dict[str, Any], key: str = "Name") -> str:
    name = body.get(key)
    if not isinstance(name, str) or not name.strip():
        raise faults.required(key)
    return name


def _parent(ctx: Ctx, entity: str, body: dict[str, Any], name: str, sub_key: str) -> dict[str, Any]:
    """Sub-entity fields: `SubX`, `ParentRef`, `FullyQualifiedName` "Parent:Child"."""
    ref = body.get("ParentRef")
    if ref:
        parent = lookup(ctx, entity, ref, "ParentRef")
        fqn = f"{parent.data.get('FullyQualifiedName', parent.data.get('Name'))}:{name}"
        return {sub_key: True, "ParentRef": {"value": parent.data["Id"]}, "FullyQualifiedName": fqn}
    return {sub_key: False, "FullyQualifiedName": name}


# ---------------------------------------------------------------- people


def _display_name(body: dict[str, Any]) -> str:
    name = body.get("DisplayName")
    if isinstance(name, str) and name.strip():
        return name
    parts = [body.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
    derived = " ".join(p for p in parts if isinstance(p, str) and p)
    if derived:
        return derived
    company = body.get("CompanyName")
    if isinstance(company, str) and company:
        return company
    raise faults.required("DisplayName")


def _person(ctx: Ctx, body: dict[str, Any], prev: Record | None) -> dict[str, Any]:
    out = dict(body)
    out["DisplayName"] = _display_name(body)
    prev_data = prev.data if prev else {}
    for slot in ("BillAddr", "ShipAddr"):
        if slot in body and body[slot] is not None:
            out[slot] = address(ctx, body[slot], prev_data.get(slot))
    for key in ("PaymentMethodRef", "SalesTermRef", "DefaultTaxCodeRef", "TermRef"):
        if body.get(key) is not None:
            out[key] = value_only(body[key], key)
    out["CurrencyRef"] = currency(ctx, body.get("CurrencyRef"), prev_data or None)
    out.setdefault("Active", True)
    return out


def compute_customer(ctx: Ctx, body: dict[str, Any], prev: Record | None, lines: LineIds) -> dict[str, Any]:
    """Customer defaults as captured: Job, BillWithParent, Balance, delivery method, FQN, tax code."""
    out = _person(ctx, body, prev)
    prev_data = prev.data if prev else {}
    parent = body.get("ParentRef")
    if parent:
        rec = lookup(ctx, "Customer", parent, "ParentRef")
        out["ParentRef"] = {"value": rec.data["Id"]}
        out["Job"] = True
        out["FullyQualifiedName"] = f"{rec.data.get('FullyQualifiedName')}:{out['DisplayName']}"
        out["Level"] = int(rec.data.get("Level", 0)) + 1
    else:
        out["Job"] = False
        out["FullyQualifiedName"] = out["DisplayName"]
    out.setdefault("BillWithParent", False)
    out["Balance"] = prev_data.get("Balance", 0)
    out["BalanceWithJobs"] = prev_data.get("BalanceWithJobs", 0)
    out.setdefault("PreferredDeliveryMethod", "Print")
    out.setdefault("IsProject", False)
    if out.get("Taxable") is True and "DefaultTaxCodeRef" not in out:
        code = default_tax_code(ctx)
        if code is not None:
            out["DefaultTaxCodeRef"] = {"value": code}
    return out


def compute_vendor(ctx: Ctx, body: dict[str, Any], prev: Record | None, lines: LineIds) -> dict[str, Any]:
    """Vendor defaults: Balance 0, Vendor1099 false, currency."""
    out = _person(ctx, body, prev)
    out["Balance"] = prev.data.get("Balance", 0) if prev else 0
    out.setdefault("Vendor1099", False)
    return out


def compute_employee(ctx: Ctx, body: dict[str, Any], prev: Record | None, lines: LineIds) -> dict[str, Any]:
    """Employee: a person in the shared name list."""
    out = _person(ctx, body, prev)
    out.pop("CurrencyRef", None)
    out.setdefault("BillableTime", False)
    return out


# ---------------------------------------------------------------- lists


def compute_item(ctx: Ctx, body: dict[str, Any], prev: Record | None, lines: LineIds) -> dict[str, Any]:
    """Item: Name required (2020 element "Name", as the capture); income account defaults to Services."""
    name = _require_name(body)
    out = dict(body)
    out.update(_parent(ctx, "Item", body, name, "SubItem"))
    out.setdefault("Active", True)
    out.setdefault("Taxable", False)
    out.setdefault("UnitPrice", 0)
    out.setdefault("Type", "Service")
    income = account_ref(ctx, body.get("IncomeAccountRef"), "IncomeAccountRef", "Services")
    if income is not None:
        out["IncomeAccountRef"] = income
    if body.get("ExpenseAccountRef") is not None:
        out["ExpenseAccountRef"] = account_ref(ctx, body["ExpenseAccountRef"], "ExpenseAccountRef", None)
    out.setdefault("TrackQtyOnHand", False)
    return out


_CLASSIFICATION = {
    "Bank": "Asset",
    "Other Current Asset": "Asset",
    "Fixed Asset": "Asset",
    "Other Asset": "Asset",
    "Accounts Receivable": "Asset",
    "Equity": "Equity",
    "Expense": "Expense",
    "Other Expense": "Expense",
    "Cost of Goods Sold": "Expense",
    "Accounts Payable": "Liability",
    "Credit Card": "Liability",
    "Long Term Liability": "Liability",
    "Other Current Liability": "Liability",
    "Income": "Revenue",
    "Other Income": "Revenue",
}


def compute_account(ctx: Ctx, body: dict[str, Any], prev: Record | None, lines: LineIds) -> dict[str, Any]:
    """Account: Name and AccountType (or AccountSubType) required; balances start at 0."""
    name = _require_name(body)
    if not body.get("AccountType") and not body.get("AccountSubType"):
        raise faults.required("AccountType")
    out = dict(body)
    out.update(_parent(ctx, "Account", body, name, "SubAccount"))
    out.setdefault("Active", True)
    account_type = str(out.get("AccountType") or "Expense")
    out["AccountType"] = account_type
    out.setdefault("Classification", _CLASSIFICATION.get(account_type, "Expense"))
    out["CurrentBalance"] = prev.data.get("CurrentBalance", 0) if prev else out.get("CurrentBalance", 0)
    out["CurrentBalanceWithSubAccounts"] = out["CurrentBalance"]
    out["CurrencyRef"] = currency(ctx, body.get("CurrencyRef"), prev.data if prev else None)
    return out


def _simple_list(sub_key: str | None, entity: str) -> Any:
    def compute(ctx: Ctx, body: dict[str, Any], prev: Record | None, lines: LineIds) -> dict[str, Any]:
        name = _require_name(body)
        out = dict(body)
        if sub_key is not None:
            out.update(_parent(ctx, entity, body, name, sub_key))
        out.setdefault("Active", True)
        return out

    return compute


def compute_term(ctx: Ctx, body: dict[str, Any], prev: Record | None, lines: LineIds) -> dict[str, Any]:
    """Term: Name required; STANDARD with DueDays by default."""
    _require_name(body)
    out = dict(body)
    out.setdefault("Active", True)
    out.setdefault("Type", "STANDARD")
    return out


def compute_payment_method(
    ctx: Ctx, body: dict[str, Any], prev: Record | None, lines: LineIds
) -> dict[str, Any]:
    """PaymentMethod: Name required."""
    _require_name(body)
    out = dict(body)
    out.setdefault("Active", True)
    out.setdefault("Type", "NON_CREDIT_CARD")
    return out


def compute_passthrough(
    ctx: Ctx, body: dict[str, Any], prev: Record | None, lines: LineIds
) -> dict[str, Any]:
    """Read-only types seeded by the sandbox: stored as given, Active by default."""
    out = dict(body)
    out.setdefault("Active", True)
    return out


def compute_currency(ctx: Ctx, body: dict[str, Any], prev: Record | None, lines: LineIds) -> dict[str, Any]:
    """CompanyCurrency: a three-letter ISO 4217 Code (not the home currency, not changed once set) in a
    multicurrency company; Name from the ISO table; deleted by Active false."""
    code = _require_name(body, "Code")
    if len(code) != 3 or not code.isalpha() or not code.isupper():
        raise faults.invalid_property(f"Property Name:Code {code!r} is not a three-letter ISO 4217 code")
    if not ctx.multicurrency:
        raise faults.business("Multicurrency is not enabled for this company (Preferences.CurrencyPrefs)")
    if code == ctx.realm.home_currency[0]:
        raise faults.business(f"{code} is the home currency")
    if prev is not None and prev.data.get("Code") != code:
        raise faults.business("The Code of a currency cannot change")
    out = dict(body)
    out["Name"] = CURRENCY_NAMES.get(code, prev.data.get("Name", code) if prev else code)
    out.setdefault("Active", True)
    return out


_SYS = ("domain", "sparse", "Id", "SyncToken", "MetaData")
_PERSON_HEAD = (
    "Title",
    "GivenName",
    "MiddleName",
    "FamilyName",
    "Suffix",
    "FullyQualifiedName",
    "CompanyName",
)
_CONTACT = ("PrimaryPhone", "AlternatePhone", "Mobile", "Fax", "PrimaryEmailAddr", "WebAddr")

register(
    EntitySpec(
        name="Customer",
        order=(
            "Taxable",
            "BillAddr",
            "ShipAddr",
            "Notes",
            "Job",
            "BillWithParent",
            "ParentRef",
            "Level",
            "CustomerTypeRef",
            "SalesTermRef",
            "PaymentMethodRef",
            "Balance",
            "BalanceWithJobs",
            "CurrencyRef",
            "PreferredDeliveryMethod",
            "IsProject",
            *_SYS,
            *_PERSON_HEAD,
            "DisplayName",
            "PrintOnCheckName",
            "Active",
            *_CONTACT,
            "DefaultTaxCodeRef",
        ),
        compute=compute_customer,
        name_key="DisplayName",
        name_group=NAME_GROUP,
        default_order=("DisplayName", False),
    )
)
register(
    EntitySpec(
        name="Vendor",
        order=(
            "BillAddr",
            "Balance",
            "Vendor1099",
            "CurrencyRef",
            *_SYS,
            *_PERSON_HEAD,
            "DisplayName",
            "PrintOnCheckName",
            "Active",
            *_CONTACT,
            "AcctNum",
        ),
        compute=compute_vendor,
        name_key="DisplayName",
        name_group=NAME_GROUP,
        default_order=("DisplayName", False),
    )
)
register(
    EntitySpec(
        name="Employee",
        order=(
            "BillableTime",
            *_SYS,
            *_PERSON_HEAD,
            "DisplayName",
            "PrintOnCheckName",
            "Active",
            *_CONTACT,
        ),
        compute=compute_employee,
        name_key="DisplayName",
        name_group=NAME_GROUP,
        default_order=("DisplayName", False),
    )
)
register(
    EntitySpec(
        name="Item",
        order=(
            "Name",
            "Description",
            "Active",
            "SubItem",
            "ParentRef",
            "Level",
            "FullyQualifiedName",
            "Taxable",
            "SalesTaxIncluded",
            "UnitPrice",
            "Type",
            "IncomeAccountRef",
            "PurchaseDesc",
            "PurchaseTaxIncluded",
            "PurchaseCost",
            "ExpenseAccountRef",
            "AssetAccountRef",
            "TrackQtyOnHand",
            "QtyOnHand",
            "InvStartDate",
            "TaxClassificationRef",
            *_SYS,
        ),
        compute=compute_item,
        name_key="Name",
        default_order=("Name", False),
    )
)
register(
    EntitySpec(
        name="Account",
        order=(
            "Name",
            "SubAccount",
            "ParentRef",
            "FullyQualifiedName",
            "Active",
            "Classification",
            "AccountType",
            "AccountSubType",
            "AcctNum",
            "CurrentBalance",
            "CurrentBalanceWithSubAccounts",
            "CurrencyRef",
            *_SYS,
        ),
        compute=compute_account,
        name_key="Name",
        default_order=("Name", False),
    )
)
register(
    EntitySpec(
        name="Class",
        order=("Name", "SubClass", "ParentRef", "FullyQualifiedName", "Active", *_SYS),
        compute=_simple_list("SubClass", "Class"),
        name_key="Name",
        total_count=True,
        default_order=("Name", False),
    )
)
register(
    EntitySpec(
        name="Department",
        order=("Name", "SubDepartment", "ParentRef", "FullyQualifiedName", "Active", *_SYS),
        compute=_simple_list("SubDepartment", "Department"),
        name_key="Name",
        default_order=("Name", False),
    )
)
register(
    EntitySpec(
        name="Term",
        order=("Name", "Active", "Type", "DiscountPercent", "DueDays", "DiscountDays", *_SYS),
        compute=compute_term,
        name_key="Name",
        default_order=("Name", False),
    )
)
register(
    EntitySpec(
        name="PaymentMethod",
        order=("Name", "Active", "Type", *_SYS),
        compute=compute_payment_method,
        name_key="Name",
        default_order=("Name", False),
    )
)
register(
    EntitySpec(
        name="TaxCode",
        order=(
            "Name",
            "Description",
            "Active",
            "Hidden",
            "Taxable",
            "TaxGroup",
            "SalesTaxRateList",
            "PurchaseTaxRateList",
            *_SYS,
        ),
        compute=compute_passthrough,
        creatable=False,
        webhook=False,
        # Intuit's known TaxCode query behaviour (python-quickbooks' TaxCode test, Intuit's developer forum
        # "Setting maxresults on TaxCode query returns incorrect number of records"): the three pseudo codes
        # TAX, NON and CustomSalesTax (ids that are their names) come first on every page, on top of
        # MAXRESULTS.
        always_listed=lambda data: data.get("Id") in PSEUDO_TAX_CODES,
    )
)
register(
    EntitySpec(
        name="TaxRate",
        order=(
            "Name",
            "Description",
            "Active",
            "RateValue",
            "AgencyRef",
            "SpecialTaxType",
            "DisplayType",
            *_SYS,
        ),
        compute=compute_passthrough,
        creatable=False,
        webhook=False,
    )
)
register(
    EntitySpec(
        name="CompanyCurrency",
        order=("Code", "Name", "Active", *_SYS),
        compute=compute_currency,
        name_key="Code",
        total_count=True,
        result_key="CompanyCurrency",
        default_order=("Id", True),
        webhook_name="Currency",
    )
)
