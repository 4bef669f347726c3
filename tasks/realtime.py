"""The real-time path of `sierra-sync watch`: an app edit pushed to QuickBooks from a warm, long-lived
process, with a Prefect event per push instead of a flow run per edit.

Where the time went before (bench/watch_latency.py --sync, BENCHMARKS.md): the watcher's 2 s debounce (and
5 s polls on SQLite), then a whole `incremental-sync` flow run per company, one company after another: a
flow run and two task runs to create on the Prefect API, the blocks read again, a CDC pull, then the push.
Here the credentials blocks are read once per process, each sync is only the push of what changed (the
QuickBooks -> app direction has its own real-time path: Intuit's webhooks, process-quickbooks-events), and
each push emits `sierra-sync.push.completed` (or `.failed`) on the company's resource, which the Prefect
UI lists under Events and which a deployment trigger can match to scale out across machines
(docs/operations.md).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from prefect.events import emit_event

from connectors.quickbooks.connection import load_connection
from connectors.quickbooks_sync.push import Pusher
from connectors.quickbooks_sync.push_types import PushOptions
from sierra_core.settings import get_settings
from sierra_core.shutdown import STOP
from tasks.naming import company_name
from tasks.runtime import CompanySync, Credentials, company_sync, credentials, sessions

__all__ = [
    "EVENT_CHANGED",
    "EVENT_COMPLETED",
    "EVENT_FAILED",
    "REALTIME_TYPES",
    "WarmPush",
    "company_resource",
    "emit_changed",
]

log = logging.getLogger("sierra_sync.realtime")

REALTIME_TYPES = ("customer", "invoice", "payment", "expense")
EVENT_COMPLETED = "sierra-sync.push.completed"
EVENT_FAILED = "sierra-sync.push.failed"
EVENT_CHANGED = "sierra-sync.company.changed"  # `watch --emit-only`: a deployment trigger runs the sync

Emit = Callable[..., Any]


def company_resource(company_id: uuid.UUID) -> dict[str, str]:
    """The Prefect event resource of a company (what a deployment trigger's `match` names)."""
    return {
        "prefect.resource.id": f"sierra-sync.company.{company_id}",
        "prefect.resource.name": company_name(company_id),
    }


def emit_changed(company_id: uuid.UUID, emit: Emit = emit_event) -> dict[str, Any]:
    """The scale-out path: announce that the company's data changed and let a deployment trigger on
    `sierra-sync.company.changed` start its incremental-sync on whichever worker of the pool is free
    (docs/operations.md); the push then happens there, not in the watching process."""
    emit(event=EVENT_CHANGED, resource=company_resource(company_id), payload={"trigger": "realtime"})
    return {"emitted": EVENT_CHANGED}


class WarmPush:
    """`push(company_id)`: push the company's changed records now (trigger `realtime`); returns the push
    summary with `timings` (seconds: open or check the connection, push, total).

    Warm: the credentials blocks are read on first use and kept; each company's QuickBooks client (its
    HTTP connections, token source, realm limiter) stays open between pushes, and is reopened only when
    the stored connection changed (another realm, new settings) or a push failed. Call it for one company
    at a time (CompanyWorkers does); different companies may run on different threads. `close()` closes
    the clients."""

    def __init__(self, creds: Credentials | None = None, emit: Emit = emit_event) -> None:
        self._creds = creds
        self._lock = threading.Lock()
        self._emit = emit
        self._warm: dict[uuid.UUID, tuple[CompanySync, ExitStack]] = {}

    def prepare(self) -> None:
        """Read the credentials blocks now rather than on the first push (a shard process starting)."""
        self._credentials()

    def _credentials(self) -> Credentials:
        with self._lock:
            if self._creds is None:
                self._creds = credentials()
            return self._creds

    def _open(self, company_id: uuid.UUID) -> CompanySync:
        with sessions()() as session:
            current = load_connection(session, company_id)  # one line of error when it cannot sync
        with self._lock:
            warm = self._warm.get(company_id)
        if warm is not None and warm[0].connection == current:
            return warm[0]
        self._forget(company_id)
        stack = ExitStack()
        opened = stack.enter_context(company_sync(company_id, self._credentials()))
        with self._lock:
            self._warm[company_id] = (opened, stack)
        return opened

    def _forget(self, company_id: uuid.UUID) -> None:
        with self._lock:
            warm = self._warm.pop(company_id, None)
        if warm is not None:
            warm[1].close()

    def close(self) -> None:
        for company_id in list(self._warm):
            self._forget(company_id)

    def __call__(self, company_id: uuid.UUID) -> dict[str, Any]:
        began = time.perf_counter()
        options = PushOptions(
            trigger="realtime",
            lease_s=get_settings().sync_lease_seconds,
            should_stop=STOP.requested,
        )
        try:
            cs = self._open(company_id)
            opened = time.perf_counter()
            result = Pusher(cs.sessions, cs.client, cs.target, options).run(list(REALTIME_TYPES))
            pushed = time.perf_counter()
        except Exception as err:
            self._forget(company_id)
            self._event(EVENT_FAILED, company_id, {"error": str(err).splitlines()[0] if str(err) else ""})
            raise
        summary = result.as_dict()
        summary["timings"] = {
            "open_s": round(opened - began, 4),
            "push_s": round(pushed - opened, 4),
            "total_s": round(pushed - began, 4),
        }
        written = {
            entity: {k: v for k, v in counts.items() if v and k != "skipped"}
            for entity, counts in summary["counts"].items()
        }
        self._event(
            EVENT_COMPLETED,
            company_id,
            {
                "trigger": "realtime",
                "written": {k: v for k, v in written.items() if v},
                "failures": len(summary["failures"]),
                "stopped": summary["stopped"],
                **summary["timings"],
            },
        )
        return summary

    def _event(self, name: str, company_id: uuid.UUID, payload: dict[str, Any]) -> None:
        try:
            self._emit(event=name, resource=company_resource(company_id), payload=payload)
        except Exception as err:  # the push is done and recorded; a lost event only costs the UI line
            log.warning("Prefect event %s for company %s not sent: %s", name, company_id, err)
