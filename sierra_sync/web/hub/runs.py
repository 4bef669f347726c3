"""Starting a flow run from the hub ("Sync now") and reading its state while the page polls.

* `InProcessRuns`: runs the flow in a thread of this process (`flows.registry`), like `sierra-sync run`;
  for development, small installs and the tests. Its run ids live in this process only.
* `DeploymentRuns`: `run_deployment(..., timeout=0)` on the served deployment (`sierra-sync serve`) and
  the flow run's state read back from the Prefect API; any worker process can answer the poll.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from sierra_core.db.types import utcnow
from sierra_core.errors import SierraError
from sierra_core.redact import redact_text

__all__ = ["DeploymentRuns", "InProcessRuns", "RunStarter", "RunState"]

log = logging.getLogger("sierra_sync.web.hub.runs")

Status = Literal["scheduled", "running", "completed", "failed"]


@dataclass(frozen=True)
class RunState:
    """Where a run is; `company`: the company parameter it was started with (the hub checks it against
    the session); `message`: why it failed, in words for the person."""

    status: Status
    company: str
    started_at: datetime
    message: str | None = None

    @property
    def done(self) -> bool:
        return self.status in ("completed", "failed")


class RunStarter(Protocol):
    def start(self, flow: str, parameters: Mapping[str, Any]) -> str: ...

    def state(self, run_id: str) -> RunState | None: ...


def _failure_text(err: BaseException) -> str:
    if isinstance(err, SierraError):
        return redact_text(err.message)
    first = str(err).splitlines()[0] if str(err) else type(err).__name__
    return redact_text(first)[:300]


class InProcessRuns:
    """Flow runs in threads of this process (at most `workers` at once; more wait their turn)."""

    def __init__(self, *, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hub-run")
        self._states: dict[str, RunState] = {}
        self._lock = threading.Lock()

    def _set(self, run_id: str, **changes: Any) -> None:
        with self._lock:
            old = self._states[run_id]
            self._states[run_id] = RunState(**{**old.__dict__, **changes})

    def _run(self, run_id: str, flow_name: str, parameters: dict[str, Any]) -> None:
        from flows import registry

        self._set(run_id, status="running")
        try:
            state = registry.load(flow_name)(**parameters, return_state=True)
            if not state.is_completed():
                state.result()  # raises the flow's error
                raise SierraError(f"{flow_name} ended in state {state.name}")
        except BaseException as err:  # the run failed: tell the person why, keep serving
            log.warning(
                "%s for company %s failed: %s", flow_name, parameters.get("company"), _failure_text(err)
            )
            self._set(run_id, status="failed", message=_failure_text(err))
            return
        self._set(run_id, status="completed")

    def start(self, flow: str, parameters: Mapping[str, Any]) -> str:
        run_id = str(uuid.uuid4())
        params = dict(parameters)
        with self._lock:
            self._states[run_id] = RunState("scheduled", str(params.get("company")), utcnow())
        self._pool.submit(self._run, run_id, flow, params)
        return run_id

    def state(self, run_id: str) -> RunState | None:
        with self._lock:
            return self._states.get(run_id)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


_PREFECT_STATUS: dict[str, Status] = {
    "SCHEDULED": "scheduled",
    "PENDING": "scheduled",
    "RUNNING": "running",
    "PAUSED": "running",
    "COMPLETED": "completed",
}


class DeploymentRuns:
    """Flow runs of served deployments (`<flow>/<flow>`, as prefect.yaml names them)."""

    def start(self, flow: str, parameters: Mapping[str, Any]) -> str:
        from prefect.deployments import run_deployment

        run: Any = run_deployment(name=f"{flow}/{flow}", parameters=dict(parameters), timeout=0)
        return str(run.id)  # a FlowRun (the sync call; its stubs also name a coroutine)

    def state(self, run_id: str) -> RunState | None:
        from prefect.client.orchestration import get_client
        from prefect.exceptions import ObjectNotFound

        try:
            key = uuid.UUID(run_id)
        except ValueError:
            return None
        try:
            with get_client(sync_client=True) as client:
                run = client.read_flow_run(key)
        except ObjectNotFound:
            return None
        kind = run.state.type.value if run.state else "SCHEDULED"
        status = _PREFECT_STATUS.get(kind, "failed")
        message = run.state.message if status == "failed" and run.state else None
        started = run.start_time or run.expected_start_time or run.created or utcnow()
        return RunState(status, str(run.parameters.get("company")), started, message)
