"""reconcile-books and repair-books: one task per run (never one per record); small JSON-ready results."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from prefect import get_run_logger, task

from blocks.stripe import stripe_gateway
from connectors.quickbooks_sync.push import Pusher
from connectors.quickbooks_sync.push_types import PushOptions
from connectors.reconcile import repair as repair_mod
from connectors.reconcile.run import Outcome, Scope, jsonable, now_info, reconcile_once, record
from connectors.reconcile.sources import StripeLister
from sierra_core.errors import ConfigError
from sierra_core.settings import get_settings
from tasks.naming import company_name, task_name
from tasks.push import flow_run_id
from tasks.retry import retry_if_retryable
from tasks.runtime import CompanySync, accounting_provider, company_sync, sessions
from tasks.xero import XeroCompany, xero_company


def _stripe(check_stripe: bool) -> StripeLister | None:
    if not check_stripe:
        return None
    try:
        return stripe_gateway()
    except ConfigError as err:
        get_run_logger().warning("Stripe not checked: %s", err.message)
        return None


def _system(company_id: uuid.UUID) -> str:
    with sessions()() as session:
        return accounting_provider(session, company_id)


def _scope(cs: CompanySync, start: date, end: date, tolerance: Decimal) -> Scope:
    c = cs.connection
    return Scope(c.company_id, c.integration_id, start, end, tolerance, c.settings.sync_draft_invoices)


def _run(
    cs: CompanySync | XeroCompany, scope: Scope, stripe: StripeLister | None, *, repair: bool
) -> tuple[Outcome, dict[str, Any]]:
    outcome = reconcile_once(cs.sessions, cs.client, stripe, scope)
    info = now_info(scope, repair=repair, stripe_checked=stripe is not None, flow_run_id=flow_run_id())
    recorded = record(
        cs.sessions,
        outcome,
        info,
        get_settings().data_dir / "reports",
        company_label=company_name(scope.company_id),
    )
    return outcome, recorded


@task(
    name="reconcile-books",
    task_run_name=task_name("reconcile books", "period"),
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=retry_if_retryable,
)
def reconcile_books(
    company_id: str, period_start: date, period_end: date, tolerance: Decimal, check_stripe: bool = True
) -> dict[str, Any]:
    """Compare the app, the company's accounting system (QuickBooks or Xero) and Stripe over the period;
    record the run; return its result."""
    logger = get_run_logger()
    cid = uuid.UUID(company_id)
    if _system(cid) == "xero":
        with xero_company(cid) as xc:
            c = xc.connection
            include_drafts = bool(c.settings.get("sync_draft_invoices", False))
            scope = Scope(c.company_id, c.integration_id, period_start, period_end, tolerance, include_drafts)
            outcome, result = _run(xc, scope, _stripe(check_stripe), repair=False)
    else:
        with company_sync(cid) as cs:
            outcome, result = _run(
                cs, _scope(cs, period_start, period_end, tolerance), _stripe(check_stripe), repair=False
            )
    logger.info(
        "reconciled: %s of %s records match (%s %%), %s discrepancies",
        result["records_matched"],
        result["records_total"],
        result["accuracy_pct"],
        len(outcome.discrepancies),
    )
    return jsonable(result)  # type: ignore[no-any-return]


@task(name="repair-books", task_run_name=task_name("repair books", "period"), retries=0)
def repair_books(
    company_id: str,
    period_start: date,
    period_end: date,
    tolerance: Decimal,
    check_stripe: bool = True,
    delete_duplicates: bool = False,
) -> dict[str, Any]:
    """Reconcile, push what the app owns (targeted, by id), delete QuickBooks duplicates only when asked,
    reconcile again; the result is the second run's, with a `repair` section saying what changed."""
    logger = get_run_logger()
    if _system(uuid.UUID(company_id)) == "xero":
        raise ConfigError(
            "repair is not available for a company kept in Xero yet: run the reconciliation without repair, "
            "then incremental-sync (or full-sync) to push what the app owns"
        )
    stripe = _stripe(check_stripe)
    with company_sync(uuid.UUID(company_id)) as cs:
        scope = _scope(cs, period_start, period_end, tolerance)
        before, before_result = _run(cs, scope, stripe, repair=False)
        plan = repair_mod.plan(before.discrepancies, before.qbo)
        with cs.sessions.begin() as session:
            links = repair_mod.prepare_links(session, scope.integration_id, plan)
        pushed: dict[str, Any] = {}
        if plan.ids:
            options = PushOptions(trigger="reconcile", flow_run_id=flow_run_id())
            pushed = (
                Pusher(cs.sessions, cs.client, cs.target, options).run(plan.entity_types, plan.ids).as_dict()
            )
        deleted = (
            repair_mod.delete_duplicates(cs.client, scope.integration_id, plan.duplicates)
            if delete_duplicates
            else []
        )
        after, result = _run(cs, scope, stripe, repair=True)
    key = ["entity_type", "kind", "app_id", "external_id", "stripe_id"]
    open_before = {tuple(str(v) for v in r) for r in before.discrepancies[key].itertuples(index=False)}
    open_after = {tuple(str(v) for v in r) for r in after.discrepancies[key].itertuples(index=False)}
    fixed = [dict(zip(key, r, strict=True)) for r in sorted(open_before - open_after)]
    still = [dict(zip(key, r, strict=True)) for r in sorted(open_before & open_after)]
    logger.info("repair: %s fixed, %s still open", len(fixed), len(still))
    result["repair"] = {
        "before": {
            "run_id": before_result["run_id"],
            "accuracy_pct": before_result["accuracy_pct"],
            "counts": before_result["counts"],
        },
        "pushed": len(plan.ids),
        "push_counts": pushed.get("counts", {}),
        "push_failures": pushed.get("failures", [])[:50],
        **links,
        "duplicates_left": [] if delete_duplicates else [d[1] for d in plan.duplicates],
        "duplicates_deleted": deleted,
        "fixed": fixed,
        "still_open": still,
    }
    return jsonable(result)  # type: ignore[no-any-return]
