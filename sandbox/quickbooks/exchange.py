"""ExchangeRate: one rate per source currency and date, to the home currency, with no Id.

    GET  /exchangerate?sourcecurrencycode=EUR[&asofdate=2025-06-10]   the rate in effect on that date
    POST /exchangerate {SourceCurrencyCode, Rate, AsOfDate[, TargetCurrencyCode][, SyncToken]}
    query: select * from ExchangeRate where SourceCurrencyCode = 'EUR'

A POST for a (currency, date) that has no rate yet creates it with SyncToken "0" (as Intuit's sample shows);
one that has a rate is an update and needs its current SyncToken (5010 otherwise). The home currency cannot
be given a rate (6000), and only the company's currencies can (610 otherwise). Rates are stored under the key
`{code}:{date}` and never take an id from the company's counter. Where no rate was ever set, a fixed market
rate (`MARKET_USD`) stands in, as QuickBooks fills rates from its own feed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.quickbooks import faults
from sandbox.quickbooks.entities import Ctx, Engine, EntitySpec, LineIds, register
from sandbox.quickbooks.http import Response, qbo_json
from sandbox.quickbooks.resources import Call, register_resource
from sandbox.quickbooks.store import Record
from sandbox.quickbooks.txnbase import today
from sandbox.quickbooks.wire import QboFault, api_time, meta_time, plain, to_decimal, txn_date

__all__ = ["MARKET_USD", "default_rate", "rate_record", "set_rate"]

ENTITY = "ExchangeRate"
# Units of USD per unit of the currency: a stand-in for QuickBooks' rate feed.
MARKET_USD: dict[str, Decimal] = {
    code: Decimal(rate)
    for code, rate in {
        "USD": "1",
        "CAD": "0.73",
        "EUR": "1.08",
        "GBP": "1.27",
        "AUD": "0.66",
        "NZD": "0.61",
        "MXN": "0.058",
        "JPY": "0.0067",
        "INR": "0.012",
        "CHF": "1.12",
        "CNY": "0.14",
        "SEK": "0.095",
        "ZAR": "0.054",
    }.items()
}


def _key(code: str, as_of: str) -> str:
    return f"{code}:{as_of}"


def _stored(ctx: Ctx, code: str, as_of: str) -> Record | None:
    """The stored rate in effect on `as_of`: the latest on or before it."""
    best: Record | None = None
    for rec in ctx.realm.live(ENTITY):
        if rec.data.get("SourceCurrencyCode") != code or str(rec.data.get("AsOfDate")) > as_of:
            continue
        if best is None or str(rec.data["AsOfDate"]) > str(best.data["AsOfDate"]):
            best = rec
    return best


def _market(ctx: Ctx, code: str) -> Decimal:
    home = ctx.realm.home_currency[0]
    if code == home:
        return Decimal(1)
    source, target = MARKET_USD.get(code), MARKET_USD.get(home)
    if source is None or target is None:
        return Decimal(1)
    return (source / target).quantize(Decimal("0.000001")).normalize()


def default_rate(ctx: Ctx, code: str, as_of: str) -> Decimal | int:
    """The rate a transaction in `code` dated `as_of` gets when it sends none."""
    rec = _stored(ctx, code, as_of)
    return plain(rec.data["Rate"] if rec is not None else _market(ctx, code))


def _check_currency(ctx: Ctx, code: str) -> None:
    if code == ctx.realm.home_currency[0]:
        raise faults.business(f"{code} is the home currency: it has no exchange rate to set")
    for rec in ctx.realm.live("CompanyCurrency"):
        if rec.data.get("Code") == code and rec.data.get("Active") is not False:
            return
    raise faults.not_found()


def rate_record(ctx: Ctx, code: str, as_of: str) -> dict[str, Any]:
    """GET /exchangerate: the stored rate in effect, or the market stand-in dated `as_of` (not stored)."""
    home = ctx.realm.home_currency[0]
    if code != home:
        _check_currency(ctx, code)
    rec = _stored(ctx, code, as_of)
    if rec is not None:
        return rec.data
    return _assemble("0", as_of, code, plain(_market(ctx, code)), home, meta_time(ctx.now, ctx.realm.tz))


def _assemble(sync: str, as_of: str, code: str, rate: Any, target: str, stamp: str) -> dict[str, Any]:
    return {
        "SyncToken": sync,
        "domain": "QBO",
        "AsOfDate": as_of,
        "SourceCurrencyCode": code,
        "Rate": rate,
        "sparse": False,
        "TargetCurrencyCode": target,
        "MetaData": {"LastUpdatedTime": stamp},
    }


def set_rate(engine: Engine, body: Any, operation: str, allow_dup: bool = False) -> dict[str, Any]:
    """POST /exchangerate (also a batch item): create or update the rate of one currency and date."""
    ctx = engine.ctx
    if operation not in ("", "create", "update"):
        raise faults.unsupported(f"{operation} for ExchangeRate")
    if not isinstance(body, dict):
        raise faults.invalid_property("Property Name:request body must be a JSON object")
    for key in ("SourceCurrencyCode", "Rate", "AsOfDate"):
        if body.get(key) in (None, ""):
            raise faults.required(key)
    code = str(body["SourceCurrencyCode"]).upper()
    home = ctx.realm.home_currency[0]
    target = str(body.get("TargetCurrencyCode") or home).upper()
    if target != home:
        raise faults.invalid_property(f"Property Name:TargetCurrencyCode must be the home currency {home}")
    _check_currency(ctx, code)
    as_of = txn_date(body["AsOfDate"], "AsOfDate")
    rate = plain(body["Rate"], "Rate")
    if to_decimal(rate) <= 0:
        raise faults.invalid_property("Property Name:Rate must be greater than 0")
    key = _key(code, as_of)
    table = ctx.realm.table(ENTITY)
    rec = ctx.realm.get(ENTITY, key)
    stamp = meta_time(ctx.now, ctx.realm.tz)
    if rec is None:
        data = _assemble("0", as_of, code, rate, target, stamp)
        table[key] = Record(data=data, updated=ctx.now)
    else:
        if body.get("SyncToken") in (None, ""):
            raise faults.required("SyncToken")
        if str(body["SyncToken"]) != rec.data.get("SyncToken"):
            raise faults.stale()
        data = _assemble(str(int(rec.data["SyncToken"]) + 1), as_of, code, rate, target, stamp)
        rec.data, rec.updated = data, ctx.now
    ctx.store.save(ctx.realm, ENTITY, key)
    return data


def _unused_compute(ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds) -> dict[str, Any]:
    raise faults.unsupported("ExchangeRate")  # every write goes through set_rate


def _get(call: Call) -> Response | None:
    if call.req.method != "GET":
        return None  # POST: the entity route, i.e. set_rate
    if call.item_id is not None:
        raise faults.unsupported("GET /exchangerate/{id}: ask ?sourcecurrencycode=&asofdate=")
    ctx = call.engine.ctx
    code = call.req.q_ci("sourcecurrencycode")
    if not code:
        raise faults.required("sourcecurrencycode")
    raw_date = call.req.q_ci("asofdate")
    try:
        as_of = txn_date(raw_date, "asofdate") if raw_date else today(ctx)
    except QboFault:
        raise faults.invalid_property(f"Property Name:asofdate is not a date: {raw_date}") from None
    data = rate_record(ctx, code.upper(), as_of)
    return qbo_json({ENTITY: data, "time": api_time(ctx.now, ctx.realm.tz)})


register(
    EntitySpec(
        name=ENTITY,
        order=(
            "SyncToken",
            "domain",
            "AsOfDate",
            "SourceCurrencyCode",
            "Rate",
            "sparse",
            "TargetCurrencyCode",
        ),
        compute=_unused_compute,
        custom_write=set_rate,
        total_count=True,
        default_order=("SourceCurrencyCode", False),
        webhook=False,
    )
)
register_resource("exchangerate", _get)
