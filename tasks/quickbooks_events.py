"""QuickBooks notification tasks: answer the stored notifications with one CDC pull per connection; plus the
in-process handler the web app registers when no deployment is served."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from prefect import get_run_logger, task
from sqlalchemy.orm import Session, sessionmaker

from connectors.quickbooks import events
from connectors.quickbooks_sync.pull import Puller
from connectors.quickbooks_sync.pull_types import PullOptions
from sierra_core.inbox import InboxEvent
from tasks.push import flow_run_id
from tasks.runtime import app_engine, company_sync, sessions

__all__ = ["inbox_handler", "process_quickbooks_event_inbox"]


def _pull(company_id: uuid.UUID) -> dict[str, Any]:
    with company_sync(company_id) as cs:
        options = PullOptions(trigger="webhook", flow_run_id=flow_run_id())
        summary = Puller(cs.sessions, cs.client, cs.target, options).run().as_dict()
    summary.pop("decisions", None)
    return summary


def inbox_handler(factory: sessionmaker[Session] | None = None) -> Callable[[InboxEvent], str]:
    """The handler for provider `quickbooks_online` in the web process: a notification starts the pull of
    its connection right after it is acknowledged."""
    app_engine()  # this process's engine, made once before handler threads race for it
    return events.inbox_handler(factory or sessions(), _pull)


@task(name="process-quickbooks-event-inbox")
def process_quickbooks_event_inbox(
    inbox_ids: list[str] | None = None, debounce: float = 0.5
) -> dict[str, Any]:
    """Answer the given notifications (None: every pending one) with one pull per connection."""
    logger = get_run_logger()
    ids = [uuid.UUID(i) for i in inbox_ids] if inbox_ids is not None else None
    run = events.process_events(sessions(), _pull, ids, debounce=debounce)
    logger.info(
        "QuickBooks notifications: %s pull(s), %s processed, %s already covered, %s ignored, %s failed",
        run.pulls,
        run.processed,
        run.covered,
        run.ignored,
        run.failed,
    )
    for failure in run.failures[:20]:
        logger.warning("%s (%s): %s", failure["event_id"], failure["event_type"], failure["message"])
    return run.as_dict()
