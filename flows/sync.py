"""incremental-sync, full-sync and sync-all-companies: both directions, pull first, then push."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, cast

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from sqlalchemy import select

from flows.artifacts import publish_push
from flows.notify import notify_sync_problems
from flows.push import ALL_TYPES
from sierra_core.db.models import Company, Integration
from sierra_core.errors import SierraError
from tasks.naming import company_name, flow_name
from tasks.push import push_entities
from tasks.runtime import ACCOUNTING_PROVIDERS, company_id_of, sessions
from tasks.schedule_due import due_now
from tasks.sync import pull_changes

Trigger = Literal["manual", "scheduled", "webhook", "realtime"]


def _both_ways(company: str, *, full: bool, trigger: str) -> dict[str, Any]:
    company_id = str(company_id_of(company))
    pulled = pull_changes(company_id, full=full, trigger=trigger)
    pushed = push_entities(company_id, list(ALL_TYPES), trigger=trigger)
    flow = "full-sync" if full else "incremental-sync"
    publish_push(
        pushed, company=company, company_id=company_id, title="Full sync" if full else "Sync", flow=flow
    )
    result = {
        "company_id": company_id,
        "mode": "full" if full else "incremental",
        "pull": pulled,
        "push": pushed,
    }
    notify_sync_problems(company_name(company_id), flow, result)
    return result


@flow(name="incremental-sync", flow_run_name=flow_name("incremental sync", "trigger"))
def incremental_sync(company: str, trigger: Trigger = "scheduled") -> dict[str, Any]:
    """Pull what changed in QuickBooks since the cursors (CDC), then push what changed in the app.

    Args:
        company: Company id or exact name.
        trigger: Why this run happens (recorded on every sync-log row).
    """
    return _both_ways(company, full=False, trigger=trigger)


@flow(name="full-sync", flow_run_name=flow_name("full sync", "trigger"))
def full_sync(company: str, trigger: Trigger = "manual") -> dict[str, Any]:
    """Re-read every QuickBooks record of the synced types (past the 30-day CDC window), then push
    everything that is not in step.

    Args:
        company: Company id or exact name.
        trigger: Why this run happens.
    """
    return _both_ways(company, full=True, trigger=trigger)


def connected_companies() -> list[tuple[str, str]]:
    """(company id, name) of every company with a connected accounting integration (QuickBooks or Xero;
    a company uses one)."""
    with sessions()() as session:
        rows = session.execute(
            select(Company.id, Company.name)
            .join(Integration, Integration.company_id == Company.id)
            .where(
                Integration.integration_type.in_(ACCOUNTING_PROVIDERS),
                Integration.connection_status == "connected",
                Integration.is_active.is_(True),
                Company.deleted_at.is_(None),
            )
            .order_by(Company.name)
            .distinct()
        ).all()
    return [(str(cid), name) for cid, name in rows]


@flow(name="sync-all-companies", flow_run_name="sync all companies · {mode}")
def sync_all_companies(
    mode: Literal["incremental", "full"] = "incremental",
    max_concurrency: int = 4,
    via_deployments: bool = False,
    wait_minutes: float = 30.0,
) -> dict[str, Any]:
    """Sync every connected company, at most `max_concurrency` at a time; each realm keeps its own API
    budget (the per-realm limiter), so one busy company never slows the others' QuickBooks calls.
    Incremental runs take only the companies due by their sync_frequency (realtime: every run; hourly,
    daily: when the last successful sync is that old; auto_sync off: never), see tasks/schedule_due.py.

    Args:
        mode: incremental (CDC since the cursors) or full.
        max_concurrency: Companies synced at the same time (in this process).
        via_deployments: Instead, start one run of the incremental-sync / full-sync deployment per
            company, so every worker of the work pool takes a share; this run waits for them.
        wait_minutes: With via_deployments, how long to wait for the companies' runs.
    """
    logger = get_run_logger()
    companies = connected_companies()
    if mode == "incremental":  # hourly/daily companies only when due (tasks/schedule_due.py)
        due = due_now(companies)
        logger.info("%s of %s connected companies due (sync_frequency)", len(due), len(companies))
        companies = due
    if via_deployments:
        return _fan_out_to_workers(companies, mode, wait_minutes)
    run = incremental_sync if mode == "incremental" else full_sync

    def one(company_id: str) -> dict[str, Any]:
        try:
            return {"company_id": company_id, "ok": True, **run(company=company_id, trigger="scheduled")}
        except SierraError as err:
            logger.warning("company %s not synced: %s", company_id, err.message)
            return {"company_id": company_id, "ok": False, "error": err.message}

    with ThreadPoolExecutor(max_workers=max(1, max_concurrency), thread_name_prefix="company-sync") as pool:
        results = list(pool.map(one, [cid for cid, _ in companies]))
    failed = [r for r in results if not r["ok"]]
    logger.info("synced %s companies, %s failed", len(results) - len(failed), len(failed))
    return {"companies": len(results), "failed": len(failed), "results": results}


def _fan_out_to_workers(companies: list[tuple[str, str]], mode: str, wait_minutes: float) -> dict[str, Any]:
    """One deployment run per company (idempotency key: this run + company), then wait for them all."""
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    logger = get_run_logger()
    deployment = f"{mode}-sync/{mode}-sync"
    parent = flow_run.id
    runs: dict[str, Any] = {}
    for company_id, _ in companies:
        started = run_deployment(  # called from sync code, Prefect's dual API returns the run itself
            deployment,
            parameters={"company": company_id, "trigger": "scheduled"},
            timeout=0,
            idempotency_key=f"{parent}:{company_id}",
            as_subflow=True,
        )
        runs[company_id] = cast(FlowRun, started).id
    deadline = time.monotonic() + wait_minutes * 60
    states: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            states = {cid: (client.read_flow_run(rid).state_name or "?") for cid, rid in runs.items()}
            if all(name in ("Completed", "Failed", "Crashed", "Cancelled") for name in states.values()):
                break
            time.sleep(2)
    failed = [cid for cid, name in states.items() if name != "Completed"]
    logger.info(
        "%s companies synced by the work pool, %s not completed", len(runs) - len(failed), len(failed)
    )
    return {
        "companies": len(runs),
        "failed": len(failed),
        "results": [{"company_id": cid, "state": name} for cid, name in states.items()],
    }
