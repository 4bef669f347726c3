"""RecurringTransaction: a template of another transaction, stored under its type with a `RecurringInfo`.

    POST /recurringtransaction {"Invoice": {..., "RecurringInfo": {...}}}          create / update (Id inside)
    POST /recurringtransaction?operation=delete {"Invoice": {"Id", "SyncToken"}}
    GET  /recurringtransaction/{id}  ->  {"RecurringTransaction": {"Invoice": {...}}}
    select * from RecurringTransaction where Type = 'Bill'

The template is validated and totalled by its type's rules (lines, references, tax), but it posts nothing:
no balance moves, no DocNumber or TxnDate is given to it, no webhook is sent (Intuit has none for it).
`RecurringInfo` needs a `Name` (unique among templates) and, unless `RecurType` is "Unscheduled", a
`ScheduleInfo` with an `IntervalType`; `NextDate` is computed from the schedule. `RecurDataRef` numbers the
templates of the company.
"""

from __future__ import annotations

import calendar
import copy
from datetime import date, timedelta
from typing import Any

from sandbox.quickbooks import faults
from sandbox.quickbooks.document import client_document
from sandbox.quickbooks.entities import SPECS, Engine, EntitySpec, LineIds, assemble, register
from sandbox.quickbooks.store import Record
from sandbox.quickbooks.txnbase import today
from sandbox.quickbooks.wire import meta_time, normalize_numbers, txn_date

__all__ = ["TEMPLATE_TYPES"]

ENTITY = "RecurringTransaction"
TEMPLATE_TYPES = (
    "Bill",
    "Purchase",
    "CreditMemo",
    "Deposit",
    "Estimate",
    "Invoice",
    "JournalEntry",
    "RefundReceipt",
    "SalesReceipt",
    "Transfer",
    "VendorCredit",
    "PurchaseOrder",
)
_RECUR_TYPES = ("Automated", "Reminder", "Unscheduled")
_INTERVALS = ("Daily", "Weekly", "Monthly", "Yearly")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_NOT_POSTED = ("DocNumber", "TxnDate")  # a template has neither unless the client gives them


def _kind(body: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(body, dict):
        raise faults.invalid_property("Property Name:request body must be a JSON object")
    kinds = [k for k in body if k in TEMPLATE_TYPES]
    if len(kinds) != 1 or not isinstance(body[kinds[0]], dict):
        raise faults.invalid_property(
            "Property Name:a RecurringTransaction holds exactly one of " + ", ".join(TEMPLATE_TYPES)
        )
    return kinds[0], body[kinds[0]]


def _int(value: Any, element: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise faults.invalid_property(f"Property Name:{element} must be a whole number from {low} to {high}")
    return value


def _month_day(year: int, month: int, day: int) -> date:
    last = calendar.monthrange(year, month)[1]
    return date(year, month, last if day in (-1, 0) or day > last else day)


def _next_date(schedule: dict[str, Any], start: date, interval: str) -> date:
    """The first occurrence on or after `start` that the schedule allows."""
    step = int(schedule.get("NumInterval") or 1)
    if interval == "Daily":
        return start
    if interval == "Weekly":
        wanted = _DAYS.index(schedule["DayOfWeek"]) if schedule.get("DayOfWeek") in _DAYS else start.weekday()
        return start + timedelta(days=(wanted - start.weekday()) % 7)
    day = int(schedule.get("DayOfMonth") or start.day)
    if interval == "Monthly":
        year, month = start.year, start.month
        candidate = _month_day(year, month, day)
        while candidate < start:
            month += step
            year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
            candidate = _month_day(year, month, day)
        return candidate
    month_of_year = schedule.get("MonthOfYear")
    month = _INTERVAL_MONTHS.get(str(month_of_year), start.month)
    candidate = _month_day(start.year, month, day)
    return candidate if candidate >= start else _month_day(start.year + step, month, day)


_INTERVAL_MONTHS = {name: i for i, name in enumerate(calendar.month_name) if name}


def _recurring_info(engine: Engine, given: Any, self_id: str | None) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise faults.required("RecurringInfo")
    info = copy.deepcopy(given)
    name = info.get("Name")
    if not isinstance(name, str) or not name.strip():
        raise faults.required("RecurringInfo.Name")
    for rec in engine.realm.live(ENTITY):
        inner = next(iter(rec.data.values()))
        other = inner.get("RecurringInfo", {}).get("Name") if isinstance(inner, dict) else None
        if isinstance(other, str) and other.casefold() == name.casefold() and inner.get("Id") != self_id:
            raise faults.dup_name()
    recur_type = info.setdefault("RecurType", "Automated")
    if recur_type not in _RECUR_TYPES:
        raise faults.invalid_property(
            f"Property Name:RecurringInfo.RecurType value {recur_type} is not supported"
        )
    info.setdefault("Active", True)
    if recur_type == "Unscheduled":
        info.pop("ScheduleInfo", None)
        return info
    schedule = info.get("ScheduleInfo")
    if not isinstance(schedule, dict):
        raise faults.required("RecurringInfo.ScheduleInfo")
    schedule = {k: v for k, v in schedule.items() if v not in (None, "")}
    interval = schedule.get("IntervalType")
    if interval is None:
        raise faults.required("RecurringInfo.ScheduleInfo.IntervalType")
    if interval not in _INTERVALS:
        raise faults.invalid_property(
            f"Property Name:RecurringInfo.ScheduleInfo.IntervalType value {interval}"
        )
    schedule["NumInterval"] = _int(schedule.get("NumInterval", 1), "ScheduleInfo.NumInterval", 1, 999)
    for key, low, high in (("DayOfMonth", -1, 31), ("MaxOccurrences", 1, 9999), ("DaysBefore", 0, 365)):
        if key in schedule:
            schedule[key] = _int(schedule[key], f"ScheduleInfo.{key}", low, high)
    if "DayOfWeek" in schedule and schedule["DayOfWeek"] not in _DAYS:
        raise faults.invalid_property(f"Property Name:ScheduleInfo.DayOfWeek value {schedule['DayOfWeek']}")
    start = date.fromisoformat(
        txn_date(schedule.get("StartDate", today(engine.ctx)), "ScheduleInfo.StartDate")
    )
    schedule["StartDate"] = start.isoformat()
    if "EndDate" in schedule:
        end = date.fromisoformat(txn_date(schedule["EndDate"], "ScheduleInfo.EndDate"))
        if end < start:
            raise faults.business("The schedule's EndDate is before its StartDate")
        schedule["EndDate"] = end.isoformat()
    first = max(start, date.fromisoformat(today(engine.ctx)))
    upcoming = _next_date(schedule, first, str(interval))
    if "EndDate" in schedule and upcoming > date.fromisoformat(schedule["EndDate"]):
        schedule.pop("NextDate", None)
    else:
        schedule["NextDate"] = upcoming.isoformat()
    info["ScheduleInfo"] = schedule
    return info


def _build(
    engine: Engine, kind: str, given: dict[str, Any], prev: Record | None, ids: LineIds
) -> dict[str, Any]:
    """The template's content: its type's compute, minus what only posted transactions have."""
    spec = SPECS[kind]
    # The wrapped document as clients write it ("" is no value, read-only fields ignored), like any other.
    body = client_document(engine._clean(given), spec.read_only)
    info = body.pop("RecurringInfo", None)
    body.pop("RecurDataRef", None)
    content = spec.compute(engine.ctx, body, prev, ids)
    for key in _NOT_POSTED:
        if key not in body:
            content.pop(key, None)
    content.pop("RecurDataRef", None)
    content["RecurringInfo"] = _recurring_info(engine, info, prev.data.get("Id") if prev else None)
    normalize_numbers(content)
    return content


def _system(
    engine: Engine, spec: EntitySpec, entity_id: str, sync: str, created: str | None
) -> dict[str, Any]:
    return {
        "domain": "QBO",
        "sparse": False,
        "Id": entity_id,
        "SyncToken": sync,
        "MetaData": engine._meta_for(spec, created),
    }


def _existing(engine: Engine, kind: str, inner: dict[str, Any]) -> tuple[Record, dict[str, Any]]:
    if inner.get("Id") in (None, ""):
        raise faults.required(f"{kind}.Id")
    if inner.get("SyncToken") in (None, ""):
        raise faults.required(f"{kind}.SyncToken")
    rec = engine.realm.get(ENTITY, str(inner["Id"]))
    if rec is None or kind not in rec.data:
        raise faults.not_found()
    stored: dict[str, Any] = rec.data[kind]
    if str(inner["SyncToken"]) != stored.get("SyncToken"):
        raise faults.stale()
    return rec, stored


def write_template(engine: Engine, body: Any, operation: str, allow_dup: bool = False) -> dict[str, Any]:
    """POST /recurringtransaction (and batch items): create, update (full or sparse) or delete a template."""
    kind, inner = _kind(body)
    ctx = engine.ctx
    spec = SPECS[kind]
    if operation == "delete":
        rec, _ = _existing(engine, kind, inner)
        entity_id = str(inner["Id"])
        rec.deleted, rec.updated = True, ctx.now
        rec.data = {
            "status": "Deleted",
            "domain": "QBO",
            "Id": entity_id,
            "MetaData": {"LastUpdatedTime": meta_time(ctx.now, ctx.realm.tz)},
        }
        ctx.store.save(ctx.realm, ENTITY, entity_id)
        return {"status": "Deleted", "domain": "QBO", kind: {"Id": entity_id}}
    if operation not in ("", "create", "update"):
        raise faults.unsupported(f"{operation} for RecurringTransaction")
    if inner.get("Id") not in (None, "") and operation != "create":
        rec, stored = _existing(engine, kind, inner)
        merged = {**stored, **inner} if inner.get("sparse") is True else dict(inner)
        if "RecurringInfo" not in merged:
            merged["RecurringInfo"] = stored.get("RecurringInfo")
        prev = Record(data=stored, updated=rec.updated, next_line=rec.next_line)
        ids = LineIds(rec.next_line)
        content = _build(engine, kind, merged, prev, ids)
        content["RecurDataRef"] = stored.get("RecurDataRef")
        created = stored.get("MetaData", {}).get("CreateTime")
        system = _system(engine, spec, stored["Id"], str(int(stored["SyncToken"]) + 1), created)
        rec.data = {kind: assemble(spec, content, system)}
        rec.updated, rec.next_line = ctx.now, ids.next
        ctx.store.save(ctx.realm, ENTITY, stored["Id"])
        return rec.data
    if operation == "update":
        raise faults.required(f"{kind}.Id")
    ids = LineIds(spec.first_line_id)
    content = _build(engine, kind, inner, None, ids)
    table = ctx.realm.table(ENTITY)
    content["RecurDataRef"] = {"value": str(len(table) + 1)}
    entity_id = ctx.realm.take_id()
    data = {kind: assemble(spec, content, _system(engine, spec, entity_id, "0", None))}
    table[entity_id] = Record(data=data, updated=ctx.now, next_line=ids.next)
    ctx.store.save(ctx.realm, ENTITY, entity_id)
    return data


def _view(data: dict[str, Any]) -> dict[str, Any]:
    """What a query sees: the template's fields, plus `Type` (the wrapped type)."""
    for kind in TEMPLATE_TYPES:
        if kind in data and isinstance(data[kind], dict):
            return {**data[kind], "Type": kind}
    return data


def _no_compute(ctx: Any, body: dict[str, Any], prev: Record | None, ids: LineIds) -> dict[str, Any]:
    raise faults.unsupported("RecurringTransaction")  # every write goes through write_template


register(
    EntitySpec(
        name=ENTITY,
        order=TEMPLATE_TYPES,
        compute=_no_compute,
        custom_write=write_template,
        query_view=_view,
        webhook=False,
    )
)
