"""Reconciliation history in the app database: one run row, one item row per discrepancy."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from connectors.outgoing_webhooks import emit_event, subscribed_events
from connectors.reconcile.frames import to_decimal
from sierra_core.db.models import ReconciliationItem, ReconciliationRun
from sierra_core.db.types import utcnow

ITEM_CHUNK = 1000


@dataclass(frozen=True)
class RunInfo:
    company_id: uuid.UUID
    integration_id: uuid.UUID | None
    period_start: date
    period_end: date
    tolerance: Decimal
    repair: bool
    stripe_checked: bool
    started_at: datetime
    flow_run_id: str | None = None
    repaired_run_id: uuid.UUID | None = None


def _opt_uuid(value: Any) -> uuid.UUID | None:
    return None if value is None or value is pd.NA else uuid.UUID(str(value))


def _opt_text(value: Any) -> str | None:
    return None if value is None or value is pd.NA else str(value)


def save_run(
    session: Session,
    info: RunInfo,
    summary: dict[str, Any],
    discrepancies: pd.DataFrame,
    report_path: str | None,
) -> uuid.UUID:
    """Insert the run and its discrepancies (bulk, in chunks); returns the run id."""
    run = ReconciliationRun(
        company_id=info.company_id,
        integration_id=info.integration_id,
        period_start=info.period_start,
        period_end=info.period_end,
        tolerance=info.tolerance,
        repair=info.repair,
        repaired_run_id=info.repaired_run_id,
        stripe_checked=info.stripe_checked,
        started_at=info.started_at,
        completed_at=utcnow(),
        records_total=summary["records_total"],
        records_matched=summary["records_matched"],
        amount_total=Decimal(summary["amount_total"]),
        amount_matched=Decimal(summary["amount_matched"]),
        accuracy_pct=summary["accuracy_pct"],
        amount_accuracy_pct=summary["amount_accuracy_pct"],
        counts=summary["counts"],
        by_entity=summary["by_entity"],
        totals=summary["totals"],
        report_path=report_path,
        flow_run_id=info.flow_run_id,
    )
    session.add(run)
    session.flush()
    now = utcnow()
    items = [
        {
            "id": uuid.uuid4(),
            "run_id": run.id,
            "company_id": info.company_id,
            "entity_type": str(row.entity_type),
            "kind": str(row.kind),
            "app_id": _opt_uuid(row.app_id),
            "external_id": _opt_text(row.external_id),
            "stripe_id": _opt_text(row.stripe_id),
            "number": _opt_text(row.number),
            "app_amount": to_decimal(row.app_amount),
            "qbo_amount": to_decimal(row.qbo_amount),
            "stripe_amount": to_decimal(row.stripe_amount),
            "difference": _difference(row.app_amount, row.qbo_amount),
            "detail": _opt_text(row.detail),
            "action": str(row.action),
            "created_at": now,
            "updated_at": now,
        }
        for row in discrepancies.itertuples(index=False)
    ]
    for start in range(0, len(items), ITEM_CHUNK):
        session.execute(insert(ReconciliationItem), items[start : start + ITEM_CHUNK])
    if "reconciliation.completed" in subscribed_events(session, info.company_id):
        emit_event(
            session,
            info.company_id,
            "reconciliation.completed",
            {
                "run_id": str(run.id),
                "period_start": str(info.period_start),
                "period_end": str(info.period_end),
                "accuracy_pct": summary["accuracy_pct"],
                "amount_accuracy_pct": summary["amount_accuracy_pct"],
                "discrepancies": len(items),
            },
            event_id=f"evt_reconciliation_{run.id.hex}",
        )
    return run.id


def _difference(app_amount: Any, qbo_amount: Any) -> Decimal | None:
    a, q = to_decimal(app_amount), to_decimal(qbo_amount)
    return None if a is None or q is None else q - a


def history(session: Session, company_id: uuid.UUID, limit: int = 90) -> list[dict[str, Any]]:
    """The company's last runs, oldest first: when, the period, and both accuracy figures."""
    rows = session.execute(
        select(
            ReconciliationRun.started_at,
            ReconciliationRun.period_start,
            ReconciliationRun.period_end,
            ReconciliationRun.accuracy_pct,
            ReconciliationRun.amount_accuracy_pct,
            ReconciliationRun.repair,
        )
        .where(ReconciliationRun.company_id == company_id)
        .order_by(ReconciliationRun.started_at.desc(), ReconciliationRun.created_at.desc())
        .limit(limit)
    ).all()
    return [
        {
            "started_at": r.started_at,
            "period": f"{r.period_start.isoformat()}..{r.period_end.isoformat()}",
            "accuracy_pct": r.accuracy_pct,
            "amount_accuracy_pct": r.amount_accuracy_pct,
            "repair": r.repair,
        }
        for r in reversed(rows)
    ]
