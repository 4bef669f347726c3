"""Preferences: one object per company (Id "1"), read with `GET /preferences`, changed by an update.

Create and delete are refused (500 Unsupported Operation), as Intuit documents. An update (full or sparse,
Id + SyncToken) changes the writable preferences it sends, section by section; read-only ones (the home
currency, multicurrency, OtherPrefs, account numbering, ...) keep their value whatever is sent, and
preferences a request leaves out keep theirs too (a preference cannot be null). A value of the wrong JSON
type is a 2010. The defaults follow Intuit's US sample company; the custom fields of sales forms reflect
the company's custom field definitions.
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.quickbooks import faults
from sandbox.quickbooks.entities import Ctx, EntitySpec, LineIds, register
from sandbox.quickbooks.http import Response, qbo_json
from sandbox.quickbooks.resources import Call, register_resource
from sandbox.quickbooks.store import Realm, Record
from sandbox.quickbooks.txnbase import SYSTEM_KEYS
from sandbox.quickbooks.wire import api_time

__all__ = ["PREFERENCES_ID", "default_preferences"]

PREFERENCES_ID = "1"
GREETING = "Thank you for your business and have a great day!"
SECTIONS = (
    "EmailMessagesPrefs",
    "ProductAndServicesPrefs",
    "ReportPrefs",
    "AccountingInfoPrefs",
    "SalesFormsPrefs",
    "VendorAndPurchasesPrefs",
    "TaxPrefs",
    "OtherPrefs",
    "TimeTrackingPrefs",
    "CurrencyPrefs",
)
READ_ONLY: dict[str, frozenset[str] | None] = {  # None: the whole section
    "CurrencyPrefs": None,
    "OtherPrefs": None,
    "AccountingInfoPrefs": frozenset({"UseAccountNumbers", "TaxForm"}),
    "ReportPrefs": frozenset({"CalcAgingReportFromTxnDate"}),
    "SalesFormsPrefs": frozenset({"ETransactionEnabledStatus", "CustomField", "IPNSupportEnabled"}),
    "VendorAndPurchasesPrefs": frozenset({"POCustomField"}),
    "TaxPrefs": frozenset({"PartnerTaxEnabled"}),
}


def _messages(company: str) -> dict[str, Any]:
    sign = f"\n\nSincerely,\n{company}"
    thanks = "Thank you for your business - we appreciate it very much."
    remit = "Please remit payment at your earliest convenience."
    return {
        "InvoiceMessage": {
            "Message": f"Your invoice is attached.  {remit}\n{thanks}{sign}",
            "Subject": f"Invoice from {company}",
        },
        "EstimateMessage": {
            "Message": "Please review the estimate below.  Feel free to contact us if you have any "
            f"questions.\nWe look forward to working with you.{sign}",
            "Subject": f"Estimate from {company}",
        },
        "SalesReceiptMessage": {
            "Message": f"Your sales receipt is attached.\n{thanks}{sign}",
            "Subject": f"Sales Receipt from {company}",
        },
        "StatementMessage": {
            "Message": f"Your statement is attached.  {remit}\n{thanks}{sign}",
            "Subject": f"Statement from {company}",
        },
    }


def _custom_field_prefs(realm: Realm) -> list[dict[str, Any]]:
    names = {str(x.get("DefinitionId")): str(x.get("Name")) for x in realm.custom_fields}
    flags = [
        {"Name": f"SalesFormsPrefs.UseSalesCustom{i}", "Type": "BooleanType", "BooleanValue": str(i) in names}
        for i in (3, 2, 1)
    ]
    labels = [
        {"Name": f"SalesFormsPrefs.SalesCustomName{i}", "Type": "StringType", "StringValue": names[str(i)]}
        for i in (3, 2, 1)
        if str(i) in names
    ]
    return [{"CustomField": flags}, {"CustomField": labels}]


def default_preferences(realm: Realm, multicurrency: bool) -> dict[str, Any]:
    """The preferences of a new company (Intuit's sample company's, with this company's name)."""
    home = realm.home_currency[0]
    return {
        "Id": PREFERENCES_ID,
        "EmailMessagesPrefs": _messages(realm.name),
        "ProductAndServicesPrefs": {
            "QuantityWithPriceAndRate": True,
            "ForPurchase": True,
            "QuantityOnHand": True,
            "ForSales": True,
        },
        "ReportPrefs": {"ReportBasis": "Accrual", "CalcAgingReportFromTxnDate": False},
        "AccountingInfoPrefs": {
            "FirstMonthOfFiscalYear": "January",
            "UseAccountNumbers": True,
            "TaxYearMonth": "January",
            "ClassTrackingPerTxn": False,
            "TrackDepartments": True,
            "TaxForm": "6",
            "CustomerTerminology": "Customers",
            "DepartmentTerminology": "Location",
            "ClassTrackingPerTxnLine": True,
        },
        "SalesFormsPrefs": {
            "ETransactionPaymentEnabled": False,
            "CustomTxnNumbers": False,
            "AllowShipping": False,
            "AllowServiceDate": False,
            "ETransactionEnabledStatus": "NotApplicable",
            "DefaultCustomerMessage": GREETING,
            "EmailCopyToCompany": False,
            "AllowEstimates": True,
            "DefaultTerms": {"value": "3"},
            "AllowDiscount": True,
            "DefaultDiscountAccount": "86",
            "AllowDeposit": True,
            "AutoApplyPayments": True,
            "IPNSupportEnabled": False,
            "AutoApplyCredit": True,
            "CustomField": _custom_field_prefs(realm),
            "UsingPriceLevels": False,
            "ETransactionAttachPDF": False,
        },
        "VendorAndPurchasesPrefs": {
            "BillableExpenseTracking": True,
            "TrackingByCustomer": True,
            "DefaultTerms": {"value": "3"},
        },
        "TaxPrefs": {"TaxGroupCodeRef": {"value": "2"}, "UsingSalesTax": True},
        "OtherPrefs": {
            "NameValue": [
                {
                    "Name": "SalesFormsPrefs.DefaultCustomerMessage",
                    "Value": "Thank you for your business and have a great day!",
                },
                {"Name": "SalesFormsPrefs.DefaultItem", "Value": "1"},
                {"Name": "DTXCopyMemo", "Value": "false"},
                {"Name": "UncategorizedAssetAccountId", "Value": "32"},
                {"Name": "UncategorizedIncomeAccountId", "Value": "30"},
                {"Name": "UncategorizedExpenseAccountId", "Value": "31"},
                {"Name": "SFCEnabled", "Value": "true"},
                {"Name": "Vendor1099Enabled", "Value": "true"},
                {"Name": "TimeTrackingFeatureEnabled", "Value": "true"},
                {"Name": "ProjectsEnabled", "Value": "false"},
                {"Name": "DateFormat", "Value": "Month Date Year separated by a slash"},
                {"Name": "DateFormatMnemonic", "Value": "MMDDYYYY_SEP_SLASH"},
                {"Name": "NumberFormat", "Value": "US Number Format"},
                {"Name": "NumberFormatMnemonic", "Value": "US_NB"},
                {"Name": "WarnDuplicateCheckNumber", "Value": "true"},
                {"Name": "WarnDuplicateBillNumber", "Value": "false"},
            ]
        },
        "TimeTrackingPrefs": {
            "WorkWeekStartDate": "Monday",
            "MarkTimeEntriesBillable": True,
            "ShowBillRateToAll": False,
            "UseServices": True,
            "BillCustomers": True,
        },
        "CurrencyPrefs": {"HomeCurrency": {"value": home}, "MultiCurrencyEnabled": multicurrency},
    }


# Writable preferences a new company does not have yet (others it lacks are not this company's: ignored).
OPTIONAL = {
    "AccountingInfoPrefs": frozenset({"BookCloseDate"}),
    "SalesFormsPrefs": frozenset({"DefaultShippingAccount", "SalesEmailBcc", "SalesEmailCc"}),
    "VendorAndPurchasesPrefs": frozenset({"DefaultMarkup", "DefaultMarkupAccount", "MsgToVendors"}),
}


def _merge(section: str, stored: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    fixed = READ_ONLY.get(section, frozenset())
    if fixed is None:
        return stored
    out = copy.deepcopy(stored)
    for key, value in given.items():
        old = stored.get(key)
        if key in fixed or value in (None, "") or (old is None and key not in OPTIONAL.get(section, ())):
            continue
        if old is not None and isinstance(old, bool) != isinstance(value, bool):
            raise faults.invalid_property(f"Property Name:{section}.{key} has the wrong type: {value!r}")
        if isinstance(old, dict) and isinstance(value, dict):
            value = {**old, **{k: v for k, v in value.items() if v not in (None, "")}}
        out[key] = value
    return out


def compute_preferences(ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds) -> dict[str, Any]:
    """Preferences: the stored sections with the writable values the request sends."""
    if prev is None:
        return body  # seeding (create is refused by the spec)
    out = {k: copy.deepcopy(v) for k, v in prev.data.items() if k in SECTIONS}
    for key, value in body.items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                raise faults.invalid_property(f"Property Name:{key} must be an object")
            out[key] = _merge(key, out.get(key, {}), value)
        elif key not in ("Id", "time"):
            raise faults.invalid_property(f"Property Name:{key} is not a preference")
    return out


def _read(call: Call) -> Response | None:
    if call.req.method != "GET":
        return None  # POST /preferences: the ordinary update
    ctx = call.engine.ctx
    rec = ctx.realm.get("Preferences", PREFERENCES_ID)
    if rec is None:
        raise faults.not_found()
    return qbo_json({"Preferences": rec.data, "time": api_time(ctx.now, ctx.realm.tz)})


register(
    EntitySpec(
        name="Preferences",
        order=(*SECTIONS[:3], *SECTIONS[3:], *SYSTEM_KEYS),
        compute=compute_preferences,
        creatable=False,
        updatable=True,
    )
)
register_resource("preferences", _read)
