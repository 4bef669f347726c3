"""TimeActivity: time worked by an employee or a vendor, as hours and minutes or as a start and end time.

`NameOf` ("Employee" or "Vendor") with the matching `EmployeeRef` / `VendorRef` is required, and so is either
`Hours`/`Minutes` or `StartTime`/`EndTime`. A start or end sent as a time of day ("08:00:00-08:00") is put
on `TxnDate`; times come back in the company's offset, and `TxnDate` defaults to the start's date (else
today). `BillableStatus` "Billable" needs `CustomerRef` and `HourlyRate`; "HasBeenBilled" is set by
invoicing, never by the client.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sandbox.quickbooks import faults
from sandbox.quickbooks.entities import Ctx, EntitySpec, LineIds, register
from sandbox.quickbooks.names import lookup
from sandbox.quickbooks.store import Record
from sandbox.quickbooks.txnbase import SYSTEM_KEYS, today
from sandbox.quickbooks.wire import meta_time, parse_time, plain, txn_date

__all__: list[str] = []

_TIME_OF_DAY = re.compile(r"^\d{2}:\d{2}(:\d{2})?([+-]\d{2}:?\d{2}|Z)?$")
_NAMED = {"Employee": "EmployeeRef", "Vendor": "VendorRef"}


def _moment(ctx: Ctx, value: Any, key: str, day: str | None) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise faults.invalid_property(f"Property Name:{key} is not a date-time: {value}")
    text = value.strip()
    if _TIME_OF_DAY.match(text):
        text = f"{day or today(ctx)}T{text}"
    try:
        return parse_time(text, ctx.realm.tz)
    except ValueError:
        raise faults.invalid_property(f"Property Name:{key} is not a date-time: {value}") from None


def _who(ctx: Ctx, body: dict[str, Any], out: dict[str, Any]) -> None:
    name_of = body.get("NameOf")
    if name_of in (None, ""):
        raise faults.required("NameOf")
    if name_of not in _NAMED:
        raise faults.invalid_property(f"Property Name:NameOf value {name_of} is not supported")
    key = _NAMED[str(name_of)]
    if body.get(key) is None:
        raise faults.required(key)
    person = lookup(ctx, str(name_of), body[key], key)
    out[key] = {"value": person.data["Id"], "name": person.data.get("DisplayName", "")}
    out.pop(_NAMED["Vendor" if name_of == "Employee" else "Employee"], None)


def _duration(ctx: Ctx, body: dict[str, Any], out: dict[str, Any]) -> None:
    start, end = body.get("StartTime"), body.get("EndTime")
    given_day = txn_date(body["TxnDate"], "TxnDate") if body.get("TxnDate") not in (None, "") else None
    if start not in (None, "") or end not in (None, ""):
        if start in (None, ""):
            raise faults.required("StartTime")
        if end in (None, ""):
            raise faults.required("EndTime")
        begin = _moment(ctx, start, "StartTime", given_day)
        finish = _moment(ctx, end, "EndTime", given_day)
        if finish <= begin:
            raise faults.business("EndTime must be later than StartTime")
        out["StartTime"] = meta_time(begin, ctx.realm.tz)
        out["EndTime"] = meta_time(finish, ctx.realm.tz)
        out["TxnDate"] = given_day or begin.astimezone(ctx.realm.tz).date().isoformat()
        for key in ("Hours", "Minutes"):
            out.pop(key, None)
        return
    if body.get("Hours") is None and body.get("Minutes") is None:
        raise faults.required("Hours")
    hours, minutes = body.get("Hours") or 0, body.get("Minutes") or 0
    if not isinstance(hours, int) or not isinstance(minutes, int) or hours < 0 or not 0 <= minutes < 60:
        raise faults.invalid_property("Property Name:Hours and Minutes must be whole numbers (minutes < 60)")
    out["Hours"], out["Minutes"] = hours, minutes
    out["TxnDate"] = given_day or today(ctx)


def compute_time_activity(
    ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds
) -> dict[str, Any]:
    """TimeActivity: who, how long, and (when Billable) for which customer at what rate."""
    out: dict[str, Any] = dict(body)
    _who(ctx, body, out)
    _duration(ctx, body, out)
    if body.get("CustomerRef") is not None:
        customer = lookup(ctx, "Customer", body["CustomerRef"], "CustomerRef")
        out["CustomerRef"] = {"value": customer.data["Id"], "name": customer.data.get("DisplayName", "")}
    for key, entity in (("ItemRef", "Item"), ("ClassRef", "Class"), ("DepartmentRef", "Department")):
        if body.get(key) is not None:
            rec = lookup(ctx, entity, body[key], key)
            out[key] = {"value": rec.data["Id"], "name": rec.data.get("Name", "")}
    previous = prev.data.get("BillableStatus") if prev else None
    status = body.get("BillableStatus") or previous or "NotBillable"
    if status == "HasBeenBilled" and previous != "HasBeenBilled":
        raise faults.invalid_property(
            "Property Name:BillableStatus HasBeenBilled is set by invoicing the time"
        )
    if status not in ("Billable", "NotBillable", "HasBeenBilled"):
        raise faults.invalid_property(f"Property Name:BillableStatus value {status} is not supported")
    out["BillableStatus"] = status
    if status == "Billable":
        if "CustomerRef" not in out:
            raise faults.required("CustomerRef")
        if body.get("HourlyRate") in (None, ""):
            raise faults.required("HourlyRate")
    for key in ("HourlyRate", "CostRate"):
        if body.get(key) not in (None, ""):
            out[key] = plain(body[key], key)
    out.setdefault("HourlyRate", 0)
    out.setdefault("Taxable", False)
    for key in ("BreakHours", "BreakMinutes"):
        if out.get(key) is not None and not isinstance(out[key], int):
            raise faults.invalid_property(f"Property Name:{key} must be a whole number")
    if out.get("Description") in ("", None):
        out.pop("Description", None)
    return out


register(
    EntitySpec(
        name="TimeActivity",
        order=(
            "TxnDate",
            *SYSTEM_KEYS[:2],
            "NameOf",
            "Description",
            "ItemRef",
            "ClassRef",
            "DepartmentRef",
            "ProjectRef",
            "Hours",
            "Minutes",
            "BreakHours",
            "BreakMinutes",
            "BillableStatus",
            "StartTime",
            "EndTime",
            "HourlyRate",
            "CostRate",
            "Taxable",
            "EmployeeRef",
            "VendorRef",
            "CustomerRef",
            *SYSTEM_KEYS[2:],
        ),
        compute=compute_time_activity,
        deletable=True,
        default_order=("Id", True),  # as the doc sample lists them (newest first)
    )
)
