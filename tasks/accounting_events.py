"""Webhook events of an accounting provider answered in a task: one in-process pull per connection (the
company's change feed through its adapter, trigger `webhook`), whichever provider; plus the in-process
handler the web app registers when no deployment is served."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from prefect import get_run_logger
from sqlalchemy.orm import Session, sessionmaker

from connectors.accounting.events import Pull, WebhookPulls
from connectors.accounting.pull import Puller
from connectors.accounting.pull_types import PullOptions
from sierra_core.inbox import InboxEvent
from tasks.accounting import accounting_sync
from tasks.push import flow_run_id
from tasks.runtime import app_engine, sessions

__all__ = ["inbox_handler", "process_inbox", "pull_company"]


def pull_company(company_id: uuid.UUID) -> dict[str, Any]:
    """Pull the company's changes from its accounting system now (raises when the pull fails: the events
    are then retried by the next run)."""
    with accounting_sync(company_id) as acc:
        options = PullOptions(trigger="webhook", flow_run_id=flow_run_id())
        result = Puller(acc.sessions, acc.adapter, acc.target, options).run()
    return {"changed": result.changed, "requests": result.requests}


def inbox_handler(
    events: WebhookPulls, factory: sessionmaker[Session] | None = None, pull: Pull = pull_company
) -> Callable[[InboxEvent], str]:
    """The handler for the provider's events in the web process: an event starts the pull of its
    connection right after it is acknowledged."""
    app_engine()  # this process's engine, made once before handler threads race for it
    return events.inbox_handler(factory or sessions(), pull)


def process_inbox(
    events: WebhookPulls, inbox_ids: list[str] | None, debounce: float, pull: Pull = pull_company
) -> dict[str, Any]:
    """Answer the given events (None: every pending one) with one pull per connection, logged in the run."""
    logger = get_run_logger()
    ids = [uuid.UUID(i) for i in inbox_ids] if inbox_ids is not None else None
    run = events.process_events(sessions(), pull, ids, debounce=debounce)
    logger.info(
        "%s %ss: %s pull(s), %s processed, %s already covered, %s ignored, %s failed",
        events.title,
        events.noun,
        run.pulls,
        run.processed,
        run.covered,
        run.ignored,
        run.failed,
    )
    for failure in run.failures[:20]:
        logger.warning("%s (%s): %s", failure["event_id"], failure["event_type"], failure["message"])
    return run.as_dict()
