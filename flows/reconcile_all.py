"""reconcile-all-companies: the nightly reconciliation of every connected company."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from prefect import flow, get_run_logger

from flows.sync import connected_companies
from sierra_core.errors import SierraError


@flow(name="reconcile-all-companies", flow_run_name="reconcile all companies · last {period_days} days")
def reconcile_all_companies(
    period_days: int = 3650, tolerance: Decimal = Decimal("0.00"), repair: bool = False
) -> dict[str, Any]:
    """Run `reconcile` for every connected company over the last `period_days` days, one after the other.

    Args:
        period_days: Reconcile documents dated within this many days before today (UTC).
        tolerance: Differences up to this amount count as equal.
        repair: Also fix what can be fixed safely (otherwise only report).
    """
    logger = get_run_logger()
    reconcile = importlib.import_module("flows.reconcile").reconcile  # lands with the reconcile issue
    end = datetime.now(UTC).date()
    start = end - timedelta(days=period_days)
    results: list[dict[str, Any]] = []
    for company_id, name in connected_companies():
        try:
            result = reconcile(
                company=company_id, period_start=start, period_end=end, tolerance=tolerance, repair=repair
            )
            results.append({"company": name, "ok": True, "result": result})
        except SierraError as err:
            logger.warning("%s not reconciled: %s", name, err.message)
            results.append({"company": name, "ok": False, "error": err.message})
    return {"companies": len(results), "failed": sum(1 for r in results if not r["ok"]), "results": results}
