"""End the Prefect flow runs of workers that died as Crashed (they would otherwise stay Running forever).

A worker killed with SIGKILL (or that lost its machine) cannot report its own end. The retry sweep knows
which flow runs died: those whose sync attempts' leases ran out (connectors.accounting.heartbeat
renews them while the process lives). This sets each still-running one, and its running task runs, to
Crashed through the Prefect client's public API; then its in-process parent flow runs (subflows run in
the parent's process, so they died with it). A run started from a deployment ran in its own process: its
parent is left alone. Prefect's own heartbeat-based zombie detection (docs/operations.md) covers flow runs
that held no attempt.
"""

from __future__ import annotations

import uuid

from prefect import get_run_logger, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    TaskRunFilter,
    TaskRunFilterState,
    TaskRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.states import Crashed

from sierra_core import synclog
from tasks.runtime import sessions

ALIVE = (StateType.RUNNING, StateType.PENDING, StateType.CANCELLING)
MESSAGE = (
    "the worker running this flow run stopped without reporting (its sync attempts' lease ran out); "
    "the retry sweep took over its unfinished records"
)


@task(name="crash-dead-flow-runs")
def crash_dead_flow_runs(flow_run_ids: list[str]) -> list[str]:
    """Set the given flow runs (and their in-process parents) Crashed if they still look alive to Prefect
    and hold no live attempt lease. Returns the ids set Crashed."""
    logger = get_run_logger()
    with sessions()() as session:
        alive = synclog.leases_alive(session, flow_run_ids)
    crashed: list[str] = []
    with get_client(sync_client=True) as client:
        for text in flow_run_ids:
            if text in alive:
                continue
            try:
                run_id: uuid.UUID | None = uuid.UUID(text)
            except ValueError:
                continue
            while run_id is not None:
                run = client.read_flow_run(run_id)
                if run.state is None or run.state.type not in ALIVE:
                    break
                client.set_flow_run_state(run_id, Crashed(message=MESSAGE), force=True)
                running = client.read_task_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])),
                    task_run_filter=TaskRunFilter(
                        state=TaskRunFilterState(type=TaskRunFilterStateType(any_=list(ALIVE)))
                    ),
                )
                for task_run in running:
                    client.set_task_run_state(task_run.id, Crashed(message=MESSAGE), force=True)
                crashed.append(str(run_id))
                logger.warning("flow run %s (%s) ended as Crashed: %s", run.name, run_id, MESSAGE)
                if run.deployment_id is not None or run.parent_task_run_id is None:
                    break  # started on its own (a deployment run has its own process)
                run_id = client.read_task_run(run.parent_task_run_id).flow_run_id
    return crashed
