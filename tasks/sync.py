"""pull-changes: apply what changed in the company's accounting system (QuickBooks or Xero) to the app (one
task per company and run)."""

from __future__ import annotations

import uuid
from typing import Any

from prefect import get_run_logger, task
from prefect.tasks import exponential_backoff

from connectors.accounting.pull import Puller
from connectors.accounting.pull_types import PullOptions
from tasks.accounting import accounting_sync
from tasks.naming import task_name
from tasks.push import flow_run_id
from tasks.retry import retry_if_retryable

MAX_LISTED = 200


@task(
    name="pull-changes",
    task_run_name=task_name(lambda p: "full pull" if p.get("full") else "pull changes", "trigger"),
    retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=1),
    retry_jitter_factor=0.2,
    retry_condition_fn=retry_if_retryable,
)
def pull_changes(company_id: str, full: bool = False, trigger: str = "scheduled") -> dict[str, Any]:
    """Pull the accounting system's changes since the cursors (everything with `full`); cursors commit
    with the data."""
    logger = get_run_logger()
    with accounting_sync(uuid.UUID(company_id)) as acc:
        options = PullOptions(trigger=trigger, flow_run_id=flow_run_id())
        result = Puller(acc.sessions, acc.adapter, acc.target, options).run(full=full)
        title = acc.adapter.title
    summary = result.as_dict()
    summary["failures"] = summary.get("failures", [])[:MAX_LISTED]
    summary.pop("decisions", None)
    conflicts = [d for d in result.decisions if d.action == "conflict"]
    for decision in conflicts[:50]:
        logger.info("conflict on %s: %s", decision.label, decision.reason)
    logger.info(
        "pulled from %s: %s changes applied, %s conflicts, %s failures, %s requests",
        title,
        result.changed,
        len(conflicts),
        len(result.failures),
        result.requests,
    )
    return summary
