"""Handing stored webhook events to processing, after the sender got its 2xx.

`Dispatcher` is the protocol the receiver calls (from a background task, never before answering):

* `InProcessDispatcher`: runs a handler registered per provider in this process (claim, handle, finish or
  fail, through `sierra_core.inbox`). With no handler for a provider the event stays `received` for a
  later sweep or flow. For small installs, tests and the demo.
* `DeploymentDispatcher`: `run_deployment(name, parameters={"inbox_ids": [id]}, idempotency_key=…,
  timeout=0)` per event: the same event always maps to the same flow run, even when delivered twice.
  Used when the processing deployments are served (`sierra-sync serve`).

A failed dispatch loses nothing: the event is in the inbox, still `received`, and `inbox.pending` finds it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from sierra_core import inbox
from sierra_core.inbox import InboxEvent
from sierra_core.redact import redact_text

__all__ = [
    "DEFAULT_DEPLOYMENTS",
    "DeploymentDispatcher",
    "Dispatcher",
    "EventHandler",
    "InProcessDispatcher",
    "deployment_exists",
    "dispatch_key",
]

log = logging.getLogger("sierra_sync.web.dispatch")

# provider -> "flow-name/deployment-name" (the flows land with the process-stripe-events work).
DEFAULT_DEPLOYMENTS = {
    "stripe": "process-stripe-events/process-stripe-events",
    "quickbooks_online": "process-quickbooks-events/process-quickbooks-events",
    "xero": "process-xero-events/process-xero-events",
}

EventHandler = Callable[[InboxEvent], str]
"""Processes one claimed event; returns "processed" or "ignored"; raises to mark it failed."""


class Dispatcher(Protocol):
    """Hands newly stored events to processing. Called after the response; must not raise for one bad
    event (log it: the event stays in the inbox)."""

    def dispatch(self, events: Sequence[InboxEvent]) -> None: ...


def dispatch_key(event: InboxEvent) -> str:
    """The idempotency key of an event's flow run: one run per provider event, however often delivered."""
    return f"{event.provider}:{event.event_id}"


class InProcessDispatcher:
    """Runs registered handlers in this process; events of providers without a handler stay `received`."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        handlers: Mapping[str, EventHandler] | None = None,
        *,
        max_attempts: int = inbox.DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        self.sessions = sessions
        self.handlers: dict[str, EventHandler] = dict(handlers or {})
        self.max_attempts = max_attempts

    def register(self, provider: str, handler: EventHandler) -> None:
        self.handlers[provider] = handler

    def dispatch(self, events: Sequence[InboxEvent]) -> None:
        for event in events:
            handler = self.handlers.get(event.provider)
            if handler is None:
                continue
            claimed = inbox.claim(self.sessions, event.id, max_attempts=self.max_attempts)
            if claimed is None:
                continue  # someone else has it, or it is done
            try:
                status = handler(claimed)
            except Exception as exc:  # one event's failure must not stop the others
                inbox.fail(self.sessions, claimed.id, f"{type(exc).__name__}: {exc}")
                log.warning(
                    "processing %s event %s failed: %s",
                    claimed.provider,
                    claimed.event_id,
                    redact_text(str(exc)),
                )
                continue
            inbox.finish(self.sessions, claimed.id, status=status)


RunDeployment = Callable[..., Any]


class DeploymentDispatcher:
    """Starts one flow run per event through Prefect's `run_deployment` (no waiting: `timeout=0`)."""

    def __init__(
        self,
        deployments: Mapping[str, str] | None = None,
        *,
        parameter: str = "inbox_ids",
        run: RunDeployment | None = None,
    ) -> None:
        self.deployments = dict(DEFAULT_DEPLOYMENTS if deployments is None else deployments)
        self.parameter = parameter
        self._run = run

    def _runner(self) -> RunDeployment:
        if self._run is None:
            from prefect.deployments import run_deployment

            self._run = run_deployment
        return self._run

    def dispatch(self, events: Sequence[InboxEvent]) -> None:
        for event in events:
            name = self.deployments.get(event.provider)
            if name is None:
                continue
            try:
                self._runner()(
                    name=name,
                    parameters={self.parameter: [str(event.id)]},
                    idempotency_key=dispatch_key(event),
                    timeout=0,
                )
            except Exception as exc:  # the event stays `received`; a sweep picks it up
                log.warning(
                    "could not start %s for %s event %s (%s): it stays in the inbox for the sweep",
                    name,
                    event.provider,
                    event.event_id,
                    redact_text(f"{type(exc).__name__}: {exc}")[:300],
                )


def deployment_exists(name: str) -> bool:
    """True when the Prefect server in PREFECT_API_URL knows the deployment `flow/deployment`."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            client.read_deployment_by_name(name)
    except ObjectNotFound:
        return False
    return True
