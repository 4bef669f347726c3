"""TaxAgency (create, read, query; no update or delete at Intuit) and TaxService.

    POST /taxservice/taxcode {"TaxCode": "name", "TaxRateDetails": [...]}

TaxService creates a TaxCode whose rates are existing TaxRates (`TaxRateId`) or new ones (`TaxRateName`,
`RateValue` 0-100, `TaxAgencyId` of an existing agency); it never creates an agency. The answer is the
TaxService object itself (no entity key, no `time`): `TaxCode`, `TaxCodeId` and each detail with its
`TaxRateId`. A rate listed twice, an unknown agency or rate, or a tax code name in use is refused.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.quickbooks import faults
from sandbox.quickbooks.entities import Ctx, Engine, EntitySpec, LineIds, register
from sandbox.quickbooks.http import Response, qbo_json
from sandbox.quickbooks.names import lookup
from sandbox.quickbooks.resources import Call, register_resource
from sandbox.quickbooks.store import Record
from sandbox.quickbooks.txnbase import SYSTEM_KEYS
from sandbox.quickbooks.wire import plain, to_decimal

__all__ = ["create_tax_code"]

_APPLIES = {"Sales": "SalesTaxRateList", "Purchase": "PurchaseTaxRateList"}


def compute_tax_agency(ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds) -> dict[str, Any]:
    """TaxAgency: DisplayName required; tracked on sales, not purchases, user defined."""
    name = body.get("DisplayName")
    if not isinstance(name, str) or not name.strip():
        raise faults.required("DisplayName")
    if len(name) > 100:
        raise faults.invalid_property("Property Name:DisplayName is longer than 100 characters")
    out: dict[str, Any] = {k: v for k, v in body.items() if v not in (None, "")}
    out["TaxTrackedOnSales"] = True  # read-only at Intuit: an agency made through the API tracks sales tax
    out["TaxTrackedOnPurchases"] = False
    out.setdefault("TaxAgencyConfig", "USER_DEFINED")
    for key in ("LastFileDate", "TaxRegistrationNumber"):
        out.pop(key, None)  # read-only
    return out


def _rate_value(raw: Any) -> Decimal | int:
    text = str(raw).strip().rstrip("%") if isinstance(raw, str) else raw
    value = plain(text, "TaxRateDetails.RateValue")
    if not 0 <= to_decimal(value) <= 100:
        raise faults.invalid_property("Property Name:TaxRateDetails.RateValue must be between 0 and 100")
    return value


def _detail(engine: Engine, raw: Any, seen: set[str]) -> tuple[dict[str, Any], str]:
    """One TaxRateDetails entry: the existing or new TaxRate it names; (echoed detail, list key)."""
    ctx = engine.ctx
    if not isinstance(raw, dict):
        raise faults.invalid_property("Property Name:TaxRateDetails must be a list of objects")
    applies = raw.get("TaxApplicableOn") or "Sales"
    if applies not in _APPLIES:
        raise faults.invalid_property(f"Property Name:TaxRateDetails.TaxApplicableOn value {applies}")
    if raw.get("TaxRateId") not in (None, ""):
        rate = lookup(ctx, "TaxRate", {"value": raw["TaxRateId"]}, "TaxRateDetails.TaxRateId").data
    else:
        name = raw.get("TaxRateName")
        if not isinstance(name, str) or not name.strip():
            raise faults.required("TaxRateDetails.TaxRateName")
        if raw.get("RateValue") in (None, ""):
            raise faults.required("TaxRateDetails.RateValue")
        if raw.get("TaxAgencyId") in (None, ""):
            raise faults.required("TaxRateDetails.TaxAgencyId")
        agency = lookup(ctx, "TaxAgency", {"value": raw["TaxAgencyId"]}, "TaxRateDetails.TaxAgencyId")
        if any(r.data.get("Name") == name for r in ctx.realm.live("TaxRate")):
            raise faults.dup_name()
        body = {
            "Name": name,
            "Description": name,
            "RateValue": _rate_value(raw["RateValue"]),
            "AgencyRef": {"value": agency.data["Id"]},
            "SpecialTaxType": "NONE",
            "DisplayType": "ReadOnly",
        }
        rate = engine.create("TaxRate", body, seed=True)
    if rate["Id"] in seen:
        raise faults.business(f"Tax rate {rate['Id']} is listed twice for this tax code")
    seen.add(rate["Id"])
    echoed = {
        "TaxRateName": rate.get("Name"),
        "TaxRateId": rate["Id"],
        "RateValue": rate.get("RateValue"),
        "TaxAgencyId": str(rate.get("AgencyRef", {}).get("value", "")),
        "TaxApplicableOn": applies,
    }
    return echoed, _APPLIES[applies]


def create_tax_code(engine: Engine, body: Any) -> dict[str, Any]:
    """TaxService: a new TaxCode (and any new TaxRates); the TaxService answer."""
    if not isinstance(body, dict):
        raise faults.invalid_property("Property Name:request body must be a JSON object")
    name = body.get("TaxCode")
    if not isinstance(name, str) or not name.strip():
        raise faults.required("TaxCode")
    if len(name) > 100:
        raise faults.invalid_property("Property Name:TaxCode is longer than 100 characters")
    details = body.get("TaxRateDetails")
    if not isinstance(details, list) or not details:
        raise faults.required("TaxRateDetails")
    if any(r.data.get("Name") == name for r in engine.realm.live("TaxCode")):
        raise faults.dup_name()
    seen: set[str] = set()
    echoed: list[dict[str, Any]] = []
    lists: dict[str, list[dict[str, Any]]] = {"SalesTaxRateList": [], "PurchaseTaxRateList": []}
    for raw in details:
        detail, list_key = _detail(engine, raw, seen)
        echoed.append(detail)
        lists[list_key].append(
            {
                "TaxRateRef": {"value": detail["TaxRateId"], "name": detail["TaxRateName"]},
                "TaxTypeApplicable": "TaxOnAmount",
                "TaxOrder": 0,
            }
        )
    code = engine.create(
        "TaxCode",
        {
            "Name": name,
            "Description": name,
            "Active": True,
            "Hidden": False,
            "Taxable": True,
            "TaxGroup": True,
            "SalesTaxRateList": {"TaxRateDetail": lists["SalesTaxRateList"]},
            "PurchaseTaxRateList": {"TaxRateDetail": lists["PurchaseTaxRateList"]},
        },
        seed=True,
    )
    return {"TaxCode": name, "TaxCodeId": code["Id"], "TaxRateDetails": echoed}


def _tax_service(call: Call) -> Response | None:
    if call.req.method != "POST" or (call.item_id or "").lower() != "taxcode":
        raise faults.unsupported(f"{call.req.method} /taxservice/{call.item_id or ''}")
    return qbo_json(create_tax_code(call.engine, call.body))


register(
    EntitySpec(
        name="TaxAgency",
        order=(
            *SYSTEM_KEYS[:2],
            "DisplayName",
            "TaxTrackedOnSales",
            "TaxTrackedOnPurchases",
            "TaxRegistrationNumber",
            "LastFileDate",
            "TaxAgencyConfig",
            *SYSTEM_KEYS[2:],
        ),
        compute=compute_tax_agency,
        updatable=False,
        name_key="DisplayName",
        total_count=True,
    )
)
register_resource("taxservice", _tax_service)
