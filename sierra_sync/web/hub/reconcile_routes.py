"""Reconciliation results of the company: the last runs' accuracy and the latest run's discrepancies."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from sierra_core.db.models import Integration, ReconciliationItem, ReconciliationRun
from sierra_sync.web.hub.auth import Viewer, app_deps
from sierra_sync.web.hub.pages import render

__all__ = ["router"]

router = APIRouter(prefix="/hub", include_in_schema=False)


@router.get("/reconciliation")
def reconciliation(request: Request, me: Viewer) -> Response:
    with app_deps(request).sessions() as session:
        runs = list(
            session.scalars(
                select(ReconciliationRun)
                .where(ReconciliationRun.company_id == me.company_id)
                .order_by(ReconciliationRun.started_at.desc())
                .limit(20)
            )
        )
        items = (
            list(
                session.scalars(
                    select(ReconciliationItem)
                    .where(ReconciliationItem.run_id == runs[0].id)
                    .order_by(ReconciliationItem.entity_type, ReconciliationItem.number)
                    .limit(200)
                )
            )
            if runs
            else []
        )
        xero = session.scalar(
            select(Integration.id).where(
                Integration.company_id == me.company_id,
                Integration.integration_type == "xero",
                Integration.is_active.is_(True),
            )
        )
    books = "Xero" if xero is not None else "QuickBooks"  # the company's accounting system
    return render(
        request, "reconciliation.html", me, section="reconcile", runs=runs, items=items, books=books
    )
