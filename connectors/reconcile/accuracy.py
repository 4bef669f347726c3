"""Accuracy figures from a classification: records matched / records, amount matched / amount, per entity
type and overall, with counts per class and totals per system. Percentages are rounded *down* to the
hundredth, so 99.999 % never shows as 100.00 %."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

import pandas as pd

from connectors.reconcile.classify import ENTITY_TYPES, KINDS, Classified
from connectors.reconcile.frames import to_decimal

HUNDREDTH = Decimal("0.01")


def percent(part: int, whole: int) -> Decimal:
    """part / whole in percent, rounded down to 0.01 (100.00 for an empty whole: nothing to get wrong)."""
    if whole <= 0:
        return Decimal("100.00")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(HUNDREDTH, rounding=ROUND_DOWN)


def _money(cents: int) -> str:
    value = to_decimal(cents)
    return str(value if value is not None else Decimal("0.00"))


def _figures(records: pd.DataFrame, bad: set[str]) -> dict[str, Any]:
    amounts = records["amount"].fillna(0).abs()
    matched_mask = ~records["record"].isin(bad)
    total_n, matched_n = len(records), int(matched_mask.sum())
    total_amount, matched_amount = int(amounts.sum()), int(amounts[matched_mask].sum())
    return {
        "records_total": total_n,
        "records_matched": matched_n,
        "record_accuracy_pct": percent(matched_n, total_n),
        "amount_total": _money(total_amount),
        "amount_matched": _money(matched_amount),
        "amount_accuracy_pct": percent(matched_amount, total_amount),
        "_amount_total_cents": total_amount,
        "_amount_matched_cents": matched_amount,
    }


def _counts(records: pd.DataFrame, disc: pd.DataFrame, bad: set[str]) -> dict[str, int]:
    counts = {"matched": int((~records["record"].isin(bad)).sum())}
    per_kind = disc.groupby("kind").size() if len(disc) else pd.Series(dtype="int64")
    for kind in KINDS:
        counts[kind] = int(per_kind.get(kind, 0))
    return counts


def summarize(
    result: Classified,
    app: pd.DataFrame,
    qbo: pd.DataFrame,
    stripe: pd.DataFrame | None,
    *,
    system: str = "quickbooks",
) -> dict[str, Any]:
    """`accuracy_pct`, `amount_accuracy_pct`, `counts`, `by_entity` and `totals` (JSON-ready; money as
    exact text, percentages as Decimal); the accounting side's totals are under `system` (quickbooks,
    xero)."""
    records, disc = result.records, result.discrepancies
    bad = set(disc["record"].dropna())
    overall = _figures(records, bad)
    by_entity: dict[str, Any] = {}
    for entity_type in ENTITY_TYPES:
        mine = records[records["entity_type"] == entity_type]
        figures = _figures(mine, bad)
        figures.pop("_amount_total_cents")
        figures.pop("_amount_matched_cents")
        figures["counts"] = _counts(mine, disc[disc["entity_type"] == entity_type], bad)
        by_entity[entity_type] = figures
    totals: dict[str, Any] = {"app": {}, system: {}}
    for entity_type in ENTITY_TYPES:
        a = app[(app["entity_type"] == entity_type) & ~app["deleted"]]
        q = qbo[qbo["entity_type"] == entity_type]
        totals["app"][entity_type] = {"records": len(a), "amount": _money(int(a["amount"].fillna(0).sum()))}
        totals[system][entity_type] = {
            "records": len(q),
            "amount": _money(int(q["amount"].fillna(0).sum())),
        }
    if stripe is not None:
        ok = stripe[stripe["status"] == "succeeded"]
        totals["stripe"] = {
            "charges": len(ok),
            "amount": _money(int(ok["amount"].fillna(0).sum())),
            "refunded": _money(int(ok["refunded"].fillna(0).sum())),
            "fees": _money(int(ok["fee"].fillna(0).sum())),
            "net": _money(int(ok["net"].fillna(0).sum())),
        }
    return {
        "accuracy_pct": overall["record_accuracy_pct"],
        "amount_accuracy_pct": overall["amount_accuracy_pct"],
        "records_total": overall["records_total"],
        "records_matched": overall["records_matched"],
        "amount_total": overall["amount_total"],
        "amount_matched": overall["amount_matched"],
        "counts": _counts(records, disc, bad),
        "by_entity": by_entity,
        "totals": totals,
    }


def discrepancy_rows(disc: pd.DataFrame, limit: int | None = None) -> list[dict[str, Any]]:
    """Discrepancies as JSON-ready dicts (money as exact text), largest difference first."""
    if not len(disc):
        return []
    size = (disc["qbo_amount"].fillna(0) - disc["app_amount"].fillna(0)).abs().astype("int64")
    alone = disc[["app_amount", "qbo_amount", "stripe_amount"]].fillna(0).abs().max(axis=1).astype("int64")
    one_sided = disc["app_amount"].isna() | disc["qbo_amount"].isna()
    order = size.where(~one_sided, alone)
    ranked = disc.assign(_size=order).sort_values(
        ["_size", "entity_type"], ascending=[False, True], kind="stable"
    )
    if limit is not None:
        ranked = ranked.head(limit)
    out: list[dict[str, Any]] = []
    for row in ranked.itertuples(index=False):
        app_amount, qbo_amount, stripe_amount = (
            to_decimal(row.app_amount),
            to_decimal(row.qbo_amount),
            to_decimal(row.stripe_amount),
        )
        diff = qbo_amount - app_amount if app_amount is not None and qbo_amount is not None else None
        out.append(
            {
                "entity_type": row.entity_type,
                "kind": row.kind,
                "app_id": _text(row.app_id),
                "external_id": _text(row.external_id),
                "stripe_id": _text(row.stripe_id),
                "number": _text(row.number),
                "app_amount": _opt(app_amount),
                "qbo_amount": _opt(qbo_amount),
                "stripe_amount": _opt(stripe_amount),
                "difference": _opt(diff),
                "detail": _text(row.detail),
                "action": row.action,
            }
        )
    return out


def _text(value: Any) -> str | None:
    return None if value is None or value is pd.NA else str(value)


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
