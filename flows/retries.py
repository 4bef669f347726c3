"""retry-failed-syncs (the sweep) and replay-failed (after a fix)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from prefect import flow, get_run_logger

from connectors.accounting.heartbeat import AttemptLeases
from sierra_core.errors import SierraError
from sierra_core.settings import get_settings
from tasks.crashed import crash_dead_flow_runs
from tasks.naming import flow_name
from tasks.push import push_entities
from tasks.retries import claim_due_retries, close_claims, reopen_failures
from tasks.runtime import company_id_of, sessions

EntityType = Literal["customer", "invoice", "payment", "expense"]


def _run_jobs(jobs: list[dict[str, Any]], trigger: str) -> dict[str, Any]:
    # Every claimed attempt stays leased while the jobs before its own run (a long push of one company
    # must not let the next company's claims lapse and be claimed again by the next sweep).
    leases = AttemptLeases(sessions(), get_settings().sync_lease_seconds)
    leases.add(uuid.UUID(log_id) for job in jobs for log_id in job["claimed"].values())
    with leases:
        return _run_leased(jobs, trigger)


def _run_leased(jobs: list[dict[str, Any]], trigger: str) -> dict[str, Any]:
    logger = get_run_logger()
    totals: dict[str, Any] = {"companies": len(jobs), "records": 0, "results": []}
    for job in jobs:
        totals["records"] += len(job["claimed"])
        try:
            summary = push_entities(
                job["company_id"], job["entity_types"], job["ids"], trigger=trigger, claimed=job["claimed"]
            )
        except SierraError as err:
            logger.warning("company %s: retries not run: %s", job["company_id"], err.message)
            close_claims(job["claimed"], err.message, err.retryable)
            totals["results"].append({"company_id": job["company_id"], "error": err.message})
            continue
        totals["results"].append({"company_id": job["company_id"], "counts": summary["counts"]})
    return totals


@flow(name="retry-failed-syncs", flow_run_name=flow_name("retry sweep"))
def retry_failed_syncs(
    company: str = "all", limit: int = 500, stale_after_seconds: int = 900
) -> dict[str, Any]:
    """Re-push records whose retry time has come, and records a stopped worker left half-done: an
    attempt whose lease ran out (its worker stopped renewing it, SIERRA_SYNC_LEASE_SECONDS). The flow runs
    of such dead workers are ended as Crashed.

    Args:
        company: A company id or exact name, or "all".
        limit: At most this many sync-log rows per run.
        stale_after_seconds: An attempt without a lease (recorded before leases existed) still in progress
            after this long is treated as lost.
    """
    company_id = None if company == "all" else str(company_id_of(company))
    claimed = claim_due_retries(company_id, limit, stale_after_seconds)
    crashed = crash_dead_flow_runs(claimed["dead_flow_runs"]) if claimed["dead_flow_runs"] else []
    totals = _run_jobs(claimed["jobs"], trigger="retry")
    totals["recovered_from_dead_workers"] = claimed["lost"]
    totals["crashed_flow_runs"] = crashed
    return totals


@flow(name="replay-failed", flow_run_name=flow_name("replay failures"))
def replay_failed(
    company: str, entity_types: list[EntityType] | None = None, ids: list[str] | None = None
) -> dict[str, Any]:
    """Re-run permanently failed records after their cause was fixed (e.g. an item mapped), dependants
    in order (customers, then invoices, payments, expenses).

    Args:
        company: Company id or exact name.
        entity_types: Only these record types (default: all).
        ids: Only these app record ids.
    """
    company_id = str(company_id_of(company))
    jobs = reopen_failures(company_id, list(entity_types) if entity_types else None, ids)
    return _run_jobs(jobs, trigger="manual")
