"""reconcile: prove, to the cent, that the app, QuickBooks (or Xero) and Stripe agree over a period."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from connectors.money_text import usd
from connectors.reconcile.report import TITLES, markdown
from tasks.naming import artifact_key, company_name, flow_name
from tasks.reconcile import reconcile_books, repair_books
from tasks.runtime import company_id_of

TABLE_ROWS = 200


MONEY_COLUMNS = ("app_amount", "qbo_amount", "stripe_amount", "difference")


def _kind(params: Mapping[str, Any]) -> str:
    return "repair" if params.get("repair") else "reconcile"


@flow(name="reconcile", flow_run_name=flow_name(_kind, "period"), validate_parameters=True)
def reconcile(
    company: str,
    period_start: date | None = None,
    period_end: date | None = None,
    tolerance: Decimal = Decimal("0.01"),
    repair: bool = False,
    delete_duplicates: bool = False,
    check_stripe: bool = True,
) -> dict[str, Any]:
    """Reconcile a company's invoices, payments, expenses and customers across the app, its accounting
    system (QuickBooks or Xero) and Stripe.

    Args:
        company: Company id or exact name.
        period_start: First business date (invoice issue date, payment date) in scope. Default: the first
            day of period_end's month.
        period_end: Last business date in scope. Default: today (UTC).
        tolerance: Largest invoice difference reported as tax `rounding` rather than `amount_mismatch`
            (rounding is reported separately, never counted as matched).
        repair: Push what the app owns (missing, unlinked or edited in QuickBooks), then reconcile again
            and report what changed.
        delete_duplicates: With repair, also delete QuickBooks duplicates (never deleted otherwise).
        check_stripe: Compare payments with Stripe charges (skipped with a warning when Stripe is not set up).
    """
    end = period_end or datetime.now(UTC).date()
    start = period_start or end.replace(day=1)
    if start > end:
        raise ValueError(f"period_start {start} is after period_end {end}")
    if tolerance < 0:
        raise ValueError("tolerance must be zero or more")
    company_id = str(company_id_of(company))
    if repair:
        result = repair_books(company_id, start, end, tolerance, check_stripe, delete_duplicates)
    else:
        result = reconcile_books(company_id, start, end, tolerance, check_stripe)
    publish(result, company=company, company_id=company_id)
    return result


def publish(result: dict[str, Any], *, company: str, company_id: str) -> None:
    name = company_name(company_id)
    books = TITLES.get(str(result.get("accounting", "quickbooks")), "QuickBooks")
    create_markdown_artifact(
        markdown=markdown(result, company=name),
        key=artifact_key(company_id, "reconcile"),
        description=f"Reconciliation of {name}: accuracy {result['accuracy_pct']} %",
    )
    rows = [
        {k: usd(v) if k in MONEY_COLUMNS and v is not None else v for k, v in row.items()}
        for row in result["discrepancies"][:TABLE_ROWS]
    ]
    create_table_artifact(
        table=rows or [{"kind": "none", "detail": f"the app, {books} and Stripe agree"}],
        key=artifact_key(company_id, "reconcile", "discrepancies"),
        description=f"Discrepancies of {name} (largest first; all of them in {result['report_csv']})",
    )
