"""A worker killed with SIGKILL in the middle of a push (QuickBooks answering slowly): its attempts carry a
lease it can no longer renew, so the next sweep recovers them as soon as the lease passes (a 1 s lease
here, set through SIERRA_SYNC_LEASE_SECONDS), finishes the push with no duplicate in QuickBooks, and ends
the dead flow run (and its task run) as Crashed in Prefect. bench/worker_recovery.py measures the
recovery time with the default lease."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from typing import Any

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import StateType
from sqlalchemy import func, select

from flows.retries import retry_failed_syncs
from sierra_core.db.models import IntegrationSyncLog, Invoice
from sierra_core.settings import get_settings

LEASE_S = "1"


def _in_progress(sessions) -> list[IntegrationSyncLog]:
    with sessions() as s:
        return list(
            s.scalars(select(IntegrationSyncLog).where(IntegrationSyncLog.status == "in_progress")).all()
        )


def _kill_mid_push(flow_env, db, prefect_api, tmp_path) -> tuple[list[IntegrationSyncLog], float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIERRA_")}
    env.update(
        PYTHONPATH=os.getcwd(),
        SIERRA_DATABASE_URL=db.url,
        SIERRA_SYNC_LEASE_SECONDS=LEASE_S,
        SIERRA_QBO_RETRY_INITIAL_WAIT="0.01",
        PREFECT_API_URL=prefect_api,
        PREFECT_HOME=str(tmp_path / "prefect-worker"),
    )
    errors = tmp_path / "worker-stderr.txt"
    with errors.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.flows.push_flow_worker", str(flow_env.connection.company_id)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
        )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "STARTED"
        deadline = time.monotonic() + 90
        open_attempts: list[IntegrationSyncLog] = []
        while time.monotonic() < deadline and proc.poll() is None:
            open_attempts = [a for a in _in_progress(flow_env.sessions) if a.entity_type == "invoice"]
            if open_attempts:  # the invoice batch is on its way to (slow) QuickBooks: kill the worker now
                break
            time.sleep(0.05)
        assert open_attempts, f"the worker never got to send invoices: {errors.read_text()[-3000:]}"
        proc.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    return _in_progress(flow_env.sessions), killed_at


def test_a_killed_worker_is_recovered_by_the_next_sweep_and_crashed_in_prefect(
    flow_env, db, prefect_api, tmp_path, monkeypatch
):
    realm = flow_env.connection.realm_id
    flow_env.qbo.admin("POST", "faults", {"realm": realm, "latency_ms": 1500})
    try:
        left, killed_at = _kill_mid_push(flow_env, db, prefect_api, tmp_path)
    finally:
        flow_env.qbo.admin("POST", "faults", {"realm": realm, "latency_ms": 0})
    assert left and all(a.lease_expires_at is not None for a in left)
    dead_runs = {a.flow_run_id for a in left}
    assert len(dead_runs) == 1 and None not in dead_runs
    dead_run = uuid.UUID(dead_runs.pop() or "")
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(dead_run).state_type == StateType.RUNNING  # Prefect cannot know yet

    monkeypatch.setenv("SIERRA_SYNC_LEASE_SECONDS", LEASE_S)
    get_settings.cache_clear()
    swept: dict[str, Any] = {}
    sweeps = 0
    while time.monotonic() - killed_at < 60:  # the scheduled sweep, run back to back
        swept = retry_failed_syncs()
        sweeps += 1
        if swept["recovered_from_dead_workers"]:
            break
    recovered_after = time.monotonic() - killed_at
    print(f"recovered {swept['recovered_from_dead_workers']} attempts {recovered_after:.1f} s after the kill")
    assert swept["recovered_from_dead_workers"] == len(left)  # every attempt the dead worker held
    assert swept["crashed_flow_runs"] == [str(dead_run)]

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(dead_run)
        assert run.state is not None and run.state.type == StateType.CRASHED
        assert "lease ran out" in (run.state.message or "")
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[dead_run])))
        assert tasks and all(t.state_type != StateType.RUNNING for t in tasks)

    retry_failed_syncs()  # whatever the recovery push left retrying (the first attempts had no answer)
    with flow_env.sessions() as s:
        app_numbers = Counter(
            s.scalars(select(Invoice.invoice_number).where(Invoice.status.not_in(["draft", "void"])))
        )
        lost = s.scalars(
            select(IntegrationSyncLog).where(IntegrationSyncLog.error_code == "worker_lost")
        ).all()
        assert {row.id for row in lost} == {a.id for a in left}
        assert all(row.retried_by_id is not None for row in lost)
        still_open = s.scalar(
            select(func.count())
            .select_from(IntegrationSyncLog)
            .where(IntegrationSyncLog.status == "in_progress")
        )
        assert still_open == 0
    in_qbo = Counter(i["DocNumber"] for i in flow_env.qbo_items("Invoice"))
    assert in_qbo == app_numbers  # every invoice exactly once: nothing lost, nothing duplicated
    names = Counter(c["DisplayName"] for c in flow_env.qbo_items("Customer"))
    assert max(names.values()) == 1
