"""incremental-sync, full-sync and sync-all-companies: both directions, pull first, then push."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from sqlalchemy import select

from connectors.db.models import Company, Integration
from flows.artifacts import publish_push
from flows.push import ALL_TYPES
from sierra_sync.errors import SierraError
from tasks.push import push_entities
from tasks.runtime import company_id_of, sessions
from tasks.sync import pull_changes

Trigger = Literal["manual", "scheduled", "webhook", "realtime"]


def _name(kind: str) -> str:
    params = flow_run.parameters
    return f"{kind} | {params.get('company')} | {params.get('trigger', 'scheduled')}"


def _both_ways(company: str, *, full: bool, trigger: str) -> dict[str, Any]:
    company_id = str(company_id_of(company))
    pulled = pull_changes(company_id, full=full, trigger=trigger)
    pushed = push_entities(company_id, list(ALL_TYPES), trigger=trigger)
    publish_push(pushed, company=company, company_id=company_id, title="Full sync" if full else "Sync")
    return {
        "company_id": company_id,
        "mode": "full" if full else "incremental",
        "pull": pulled,
        "push": pushed,
    }


@flow(name="incremental-sync", flow_run_name=lambda: _name("incremental sync"))
def incremental_sync(company: str, trigger: Trigger = "scheduled") -> dict[str, Any]:
    """Pull what changed in QuickBooks since the cursors (CDC), then push what changed in the app.

    Args:
        company: Company id or exact name.
        trigger: Why this run happens (recorded on every sync-log row).
    """
    return _both_ways(company, full=False, trigger=trigger)


@flow(name="full-sync", flow_run_name=lambda: _name("full sync"))
def full_sync(company: str, trigger: Trigger = "manual") -> dict[str, Any]:
    """Re-read every QuickBooks record of the synced types (past the 30-day CDC window), then push
    everything that is not in step.

    Args:
        company: Company id or exact name.
        trigger: Why this run happens.
    """
    return _both_ways(company, full=True, trigger=trigger)


def connected_companies() -> list[tuple[str, str]]:
    """(company id, name) of every company with a connected QuickBooks integration."""
    with sessions()() as session:
        rows = session.execute(
            select(Company.id, Company.name)
            .join(Integration, Integration.company_id == Company.id)
            .where(
                Integration.integration_type == "quickbooks_online",
                Integration.connection_status == "connected",
                Integration.is_active.is_(True),
                Company.deleted_at.is_(None),
            )
            .order_by(Company.name)
        ).all()
    return [(str(cid), name) for cid, name in rows]


@flow(name="sync-all-companies", flow_run_name="sync all companies | {mode}")
def sync_all_companies(
    mode: Literal["incremental", "full"] = "incremental", max_concurrency: int = 4
) -> dict[str, Any]:
    """Sync every connected company, at most `max_concurrency` at a time; each realm keeps its own API
    budget (the per-realm limiter), so one busy company never slows the others' QuickBooks calls.

    Args:
        mode: incremental (CDC since the cursors) or full.
        max_concurrency: Companies synced at the same time.
    """
    logger = get_run_logger()
    companies = connected_companies()
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
