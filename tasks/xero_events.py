"""Xero event tasks: answer the stored Xero events with one pull per connection, the pull being the
company's incremental sync (the `incremental-sync` deployment, which syncs a company kept in Xero like one
kept in QuickBooks), run as a subflow and waited for."""

from __future__ import annotations

import uuid
from typing import Any, cast

from prefect import get_run_logger, task

from connectors.xero import events
from sierra_core.errors import SierraError
from tasks.runtime import sessions

__all__ = ["PULL_TIMEOUT_S", "SYNC_DEPLOYMENT", "process_xero_event_inbox", "pull_company"]

SYNC_DEPLOYMENT = "incremental-sync/incremental-sync"
PULL_TIMEOUT_S = 1800.0


def pull_company(company_id: uuid.UUID) -> dict[str, Any]:
    """Run the company's incremental sync (trigger `webhook`) and wait for it; raises when it does not
    complete (the events are then retried by the next run)."""
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    started = run_deployment(  # called from sync code, Prefect's dual API returns the run itself
        name=SYNC_DEPLOYMENT,
        parameters={"company": str(company_id), "trigger": "webhook"},
        timeout=PULL_TIMEOUT_S,
    )
    run = cast(FlowRun, started)
    state = run.state
    if state is None or not state.is_completed():
        what = state.name if state is not None else "unknown"
        raise SierraError(f"the incremental sync {run.name} of company {company_id} ended {what}")
    return {"flow_run": run.name}


@task(name="process-xero-event-inbox")
def process_xero_event_inbox(inbox_ids: list[str] | None = None, debounce: float = 0.5) -> dict[str, Any]:
    """Answer the given Xero events (None: every pending one) with one pull per connection."""
    logger = get_run_logger()
    ids = [uuid.UUID(i) for i in inbox_ids] if inbox_ids is not None else None
    run = events.process_events(sessions(), pull_company, ids, debounce=debounce)
    logger.info(
        "Xero events: %s pull(s), %s processed, %s already covered, %s ignored, %s failed",
        run.pulls,
        run.processed,
        run.covered,
        run.ignored,
        run.failed,
    )
    for failure in run.failures[:20]:
        logger.warning("%s (%s): %s", failure["event_id"], failure["event_type"], failure["message"])
    return run.as_dict()
