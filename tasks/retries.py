"""Durable retries (layer 3 of DESIGN.md): take due rows off the sync-log queue, re-open failures."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import timedelta
from typing import Any

from prefect import get_run_logger, task
from sqlalchemy import select

from sierra_core import synclog
from sierra_core.db.models import Integration
from sierra_core.settings import get_settings
from sierra_core.synclog import ClaimedRetry
from tasks.naming import task_name
from tasks.push import flow_run_id
from tasks.runtime import sessions


def _group(claims: list[ClaimedRetry]) -> list[dict[str, Any]]:
    """One push job per company: the entity types, ids and the attempt rows opened for them."""
    jobs: dict[uuid.UUID, dict[str, Any]] = defaultdict(lambda: {"entity_types": set(), "claimed": {}})
    for c in claims:
        if c.entity_type is None or c.entity_id is None:
            continue
        job = jobs[c.company_id]
        job["entity_types"].add(c.entity_type)
        job["claimed"][f"{c.entity_type}:{c.entity_id}"] = str(c.new_log_id)
    return [
        {
            "company_id": str(company_id),
            "entity_types": sorted(job["entity_types"]),
            "ids": sorted({key.split(":", 1)[1] for key in job["claimed"]}),
            "claimed": job["claimed"],
        }
        for company_id, job in jobs.items()
    ]


@task(name="claim-due-retries", task_run_name=task_name("claim due retries"))
def claim_due_retries(
    company_id: str | None = None, limit: int = 500, stale_after_s: int = 900
) -> dict[str, Any]:
    """Retries whose time has come, and attempts a dead worker left in progress (lease run out), grouped
    per company (`jobs`), and the flow runs of those dead workers (`dead_flow_runs`)."""
    logger = get_run_logger()
    dead: set[str] = set()
    lease_s = get_settings().sync_lease_seconds
    with sessions().begin() as session:
        integration_ids: list[uuid.UUID | None] = [None]
        if company_id is not None:
            integration_ids = list(
                session.scalars(select(Integration.id).where(Integration.company_id == uuid.UUID(company_id)))
            )
        claims: list[ClaimedRetry] = []
        for integration_id in integration_ids:
            claims += synclog.claim_due_retries(
                session,
                integration_id=integration_id,
                limit=limit,
                stale_after=timedelta(seconds=stale_after_s),
                flow_run_id=flow_run_id(),
                lease_s=lease_s,
                dead_flow_runs=dead,
            )
    lost = sum(1 for c in claims if c.recovered_from_lost_worker)
    logger.info("claimed %s due retries (%s left behind by a stopped worker)", len(claims), lost)
    return {"jobs": _group(claims), "lost": lost, "dead_flow_runs": sorted(dead)}


@task(name="reopen-failures", task_run_name=task_name("reopen failures"))
def reopen_failures(
    company_id: str, entity_types: list[str] | None = None, ids: list[str] | None = None
) -> list[dict[str, Any]]:
    """New attempt rows for the company's open failures (replay after a fix)."""
    with sessions().begin() as session:
        integration_ids = list(
            session.scalars(select(Integration.id).where(Integration.company_id == uuid.UUID(company_id)))
        )
        claims: list[ClaimedRetry] = []
        for integration_id in integration_ids:
            claims += synclog.reopen_failures(
                session,
                integration_id=integration_id,
                entity_types=entity_types,
                entity_ids=[uuid.UUID(i) for i in ids] if ids else None,
                flow_run_id=flow_run_id(),
                lease_s=get_settings().sync_lease_seconds,
            )
    return _group(claims)


@task(name="close-claims")
def close_claims(claimed: dict[str, str], message: str, retryable: bool) -> None:
    """A retry job could not run at all (e.g. the connection needs re-authorization): close its rows."""
    with sessions().begin() as session:
        for log_id in claimed.values():
            synclog.finish_failure(
                session,
                uuid.UUID(log_id),
                error_code="retry_not_run",
                error_message=message,
                retryable=retryable,
            )
