"""push-entities: one task per push run (never one per invoice); returns a small JSON-ready summary."""

from __future__ import annotations

import uuid
from typing import Any, cast

from prefect import get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.context import get_run_context
from prefect.tasks import exponential_backoff

from connectors.accounting.push import Pusher
from connectors.accounting.push_types import PushOptions
from sierra_core.settings import get_settings
from sierra_core.shutdown import STOP
from tasks.accounting import accounting_sync
from tasks.naming import task_name
from tasks.retry import retry_if_retryable

MAX_LISTED = 200  # failures / plan rows carried in the result; the sync log has all of them


def flow_run_id() -> str | None:
    """The id of the flow run this task belongs to (stored on every sync-log row)."""
    try:
        ctx = get_run_context()
    except Exception:
        return None
    run = getattr(ctx, "task_run", None)
    return str(run.flow_run_id) if run is not None and run.flow_run_id else None


@task(
    name="push-entities",
    task_run_name=task_name(lambda p: "dry run" if p.get("dry_run") else "push to QuickBooks", "trigger"),
    retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=1),
    retry_jitter_factor=0.2,
    retry_condition_fn=retry_if_retryable,
)
def push_entities(
    company_id: str,
    entity_types: list[str],
    ids: list[str] | None = None,
    dry_run: bool = False,
    trigger: str = "manual",
    max_retries: int = 3,
    claimed: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Push the company's changed records (or `ids`) to its accounting system; `claimed` maps "type:app id" to
    sync-log rows the retry sweep opened for them."""
    logger = get_run_logger()
    # Called from sync code, Prefect's dual sync/async API returns the id itself.
    progress_id = cast(
        uuid.UUID, create_progress_artifact(progress=0.0, description="QuickBooks push: records sent")
    )

    def progress(done: int, total: int) -> None:
        update_progress_artifact(progress_id, progress=round(100.0 * done / max(total, 1), 1))

    options = PushOptions(
        dry_run=dry_run,
        trigger=trigger,
        flow_run_id=flow_run_id(),
        max_retries=max_retries,
        claimed={
            (key.split(":", 1)[0], uuid.UUID(key.split(":", 1)[1])): uuid.UUID(log_id)
            for key, log_id in (claimed or {}).items()
        },
        progress=progress,
        lease_s=get_settings().sync_lease_seconds,
        should_stop=STOP.requested,  # a command stopping on SIGTERM/SIGINT (watch, demo): end between batches
    )
    with accounting_sync(uuid.UUID(company_id)) as acc:  # QuickBooks or Xero: the company's books
        pusher = Pusher(acc.sessions, acc.adapter, acc.target, options)
        result = pusher.run(entity_types, [uuid.UUID(i) for i in ids] if ids is not None else None)
    update_progress_artifact(progress_id, progress=100.0)
    summary = result.as_dict()
    summary["company_id"] = company_id
    summary["failures"] = summary["failures"][:MAX_LISTED]
    if dry_run:
        summary["plan"] = [d.as_row() for d in result.decisions][: MAX_LISTED * 5]
    for entity_type, counts in summary["counts"].items():
        logger.info(
            "%s: %s created, %s updated, %s linked, %s skipped, %s failed, %s retrying",
            entity_type,
            counts["created"],
            counts["updated"],
            counts["linked"],
            counts["skipped"],
            counts["failed"],
            counts["retrying"],
        )
    for failure in result.failures[:20]:
        logger.warning("%s (%s)", failure.message, failure.status)
    return summary
