"""One reconciliation, end to end but without Prefect: load the three systems, classify, sum up, record.

`tasks/reconcile.py` wraps `reconcile_once` and `repair` in tasks; tests and the bench call them directly.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from connectors.reconcile import report, sources, store
from connectors.reconcile.accuracy import discrepancy_rows, summarize
from connectors.reconcile.classify import QBO_NAMES, Options, classify
from connectors.reconcile.frames import cents
from connectors.reconcile.xero_source import XERO_NAMES, XeroReader, load_xero
from sierra_core.db.types import utcnow

MAX_LISTED = 500  # discrepancies carried in the result; the CSV and the items table have all of them


@dataclass(frozen=True)
class Scope:
    company_id: uuid.UUID
    integration_id: uuid.UUID
    start: date
    end: date
    tolerance: Decimal
    include_drafts: bool = False


@dataclass(frozen=True)
class Books:
    """The accounting side of a reconciliation: its key in results (`totals[system]`), its title and
    document names in details, its loader, and whether Stripe payouts are booked there (QuickBooks
    Deposits)."""

    system: str
    title: str
    names: Mapping[str, str]
    load: Callable[[date, date, dict[str, set[str]]], pd.DataFrame]
    books_payouts: bool


def books_of(client: sources.QueryClient | XeroReader | Books) -> Books:
    """QuickBooks for a client with `query_all`, Xero for one with `pull` (the Xero client)."""
    if isinstance(client, Books):
        return client
    if hasattr(client, "query_all"):
        qbo: sources.QueryClient = client  # type: ignore[assignment]
        return Books(
            "quickbooks",
            "QuickBooks",
            QBO_NAMES,
            lambda start, end, linked: sources.load_qbo(qbo, start, end, linked=linked),
            books_payouts=True,
        )
    xero: XeroReader = client
    return Books(
        "xero",
        "Xero",
        XERO_NAMES,
        lambda start, end, linked: load_xero(xero, start, end, linked=linked),
        books_payouts=False,
    )


@dataclass
class Outcome:
    result: dict[str, Any]
    discrepancies: pd.DataFrame
    qbo: pd.DataFrame


def jsonable(value: Any) -> Any:
    """Decimal as exact text, dates ISO, recursively (the flow's result is printed as JSON)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def reconcile_once(
    sessions: sessionmaker[Session],
    client: sources.QueryClient | XeroReader | Books,
    stripe: sources.StripeLister | None,
    scope: Scope,
) -> Outcome:
    """Load, classify and sum up (records nothing). `client` is the company's QuickBooks or Xero client."""
    books = books_of(client)
    with sessions() as session:
        app = sources.load_app(
            session, scope.company_id, scope.integration_id, scope.start, scope.end, system=books.system
        )
        if stripe is not None and books.books_payouts:  # Stripe payouts: each a Deposit in QuickBooks
            payouts = sources.load_payouts(
                session, stripe, scope.start, scope.end, scope.company_id, scope.integration_id
            )
            app = pd.concat([app, payouts], ignore_index=True) if len(payouts) else app
    qbo = books.load(scope.start, scope.end, sources.linked_external_ids(app))
    with sessions() as session:
        app = sources.close_app(session, scope.company_id, scope.integration_id, app, qbo, books.system)
    stripe_frame = (
        sources.load_stripe(stripe, scope.start, scope.end, app, scope.company_id)
        if stripe is not None
        else None
    )
    options = Options(
        tolerance_cents=cents(scope.tolerance) or 0,
        include_drafts=scope.include_drafts,
        stripe_checked=stripe_frame is not None,
        system=books.title,
        names=books.names,
    )
    classified = classify(app, qbo, stripe_frame if stripe_frame is not None else _no_stripe(), options)
    summary = summarize(classified, app, qbo, stripe_frame, system=books.system)
    rows = discrepancy_rows(classified.discrepancies)
    result = {
        "company_id": str(scope.company_id),
        "accounting": books.system,
        "period_start": scope.start.isoformat(),
        "period_end": scope.end.isoformat(),
        "tolerance": str(scope.tolerance),
        "stripe_checked": stripe_frame is not None,
        **summary,
        "discrepancy_count": len(rows),
        "discrepancies": rows[:MAX_LISTED],
    }
    return Outcome(result, classified.discrepancies, qbo)


def _no_stripe() -> pd.DataFrame:
    from connectors.reconcile.frames import STRIPE_COLUMNS, empty

    return empty(STRIPE_COLUMNS)


def record(
    sessions: sessionmaker[Session],
    outcome: Outcome,
    info: store.RunInfo,
    reports_dir: Path,
    *,
    company_label: str,
) -> dict[str, Any]:
    """Write the CSV, the run and item rows and the chart; returns the result with their ids and paths."""
    stamp = info.started_at.strftime("%Y%m%dT%H%M%SZ")
    base = reports_dir / str(info.company_id)
    all_rows = discrepancy_rows(outcome.discrepancies)
    csv_path = report.write_csv(base / f"reconcile-{stamp}-{uuid.uuid4().hex[:6]}.csv", all_rows)
    with sessions.begin() as session:
        run_id = store.save_run(session, info, outcome.result, outcome.discrepancies, str(csv_path))
    with sessions() as session:
        points = store.history(session, info.company_id)
    chart = base / "accuracy.html"
    chart.write_text(report.chart_html(points, title=f"Reconciliation accuracy: {company_label}"), "utf-8")
    return outcome.result | {"run_id": str(run_id), "report_csv": str(csv_path), "chart_html": str(chart)}


def now_info(scope: Scope, *, repair: bool, stripe_checked: bool, flow_run_id: str | None) -> store.RunInfo:
    return store.RunInfo(
        company_id=scope.company_id,
        integration_id=scope.integration_id,
        period_start=scope.start,
        period_end=scope.end,
        tolerance=scope.tolerance,
        repair=repair,
        stripe_checked=stripe_checked,
        started_at=utcnow(),
        flow_run_id=flow_run_id,
    )
