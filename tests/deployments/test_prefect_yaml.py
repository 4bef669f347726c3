"""prefect.yaml: `prefect deploy --all` registers every deployment with its schedule, and `serve` builds the
same set from the same file."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from deployments.serve import build, load_spec
from flows import registry

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_SCHEDULES = {
    "incremental-sync-all": ("interval", 900),
    "retry-sweep": ("interval", 30),
    "rotate-tokens": ("cron", "7 * * * *"),
    "health-check": ("interval", 900),
    "reconcile-nightly": ("cron", "30 2 * * *"),
    "full-sync-all": ("cron", "0 4 * * 0"),
}


def schedule_value(schedule: Any, kind: str) -> Any:
    """timedelta of an interval schedule, or the text of a cron schedule (both as EXPECTED_SCHEDULES)."""
    if kind == "interval":
        return schedule.interval
    return schedule.cron


def expected(kind: str, value: Any) -> Any:
    return timedelta(seconds=value) if kind == "interval" else value


def test_every_registered_flow_has_a_deployment():
    entrypoints = {d["entrypoint"] for d in load_spec()}
    modules = {
        e.split(":")[0].removesuffix(".py").replace("/", ".") + ":" + e.split(":")[1] for e in entrypoints
    }
    missing = {name for name, target in registry.FLOWS.items() if target not in modules}
    assert missing == set()


def test_shared_settings_come_from_anchors():
    text = (ROOT / "prefect.yaml").read_text()
    assert text.count("*process_pool") == len(load_spec())
    assert yaml.safe_load(text)["definitions"]["work_pools"]["process_pool"]["name"] == "sierra-process"


def test_serve_builds_every_deployment_with_its_schedule():
    built = {d.name: d for d in build()}
    assert set(built) == {d["name"] for d in load_spec()}
    for name, (kind, value) in EXPECTED_SCHEDULES.items():
        (schedule,) = built[name].schedules or []
        assert schedule_value(schedule.schedule, kind) == expected(kind, value)
    assert built["incremental-sync-all"].parameters == {"mode": "incremental", "max_concurrency": 4}


@pytest.mark.slow
def test_prefect_deploy_all_registers_every_deployment(prefect_api):
    from prefect.client.orchestration import get_client

    env = {**os.environ, "PREFECT_API_URL": prefect_api, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    prefect = Path(sys.executable).with_name("prefect")
    subprocess.run(
        [str(prefect), "--no-prompt", "work-pool", "create", "sierra-process", "--type", "process"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    done = subprocess.run(
        [str(prefect), "--no-prompt", "deploy", "--all"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    with get_client(sync_client=True) as client:
        deployments = {d.name: d for d in client.read_deployments()}
    assert {d["name"] for d in load_spec()} <= set(deployments)
    for name, (kind, value) in EXPECTED_SCHEDULES.items():
        schedules = [s.schedule for s in deployments[name].schedules]
        assert len(schedules) == 1, name
        assert schedule_value(schedules[0], kind) == expected(kind, value)
    assert deployments["retry-sweep"].parameters == {
        "company": "all",
        "limit": 500,
        "stale_after_seconds": 900,
    }
    assert deployments["retry-sweep"].work_pool_name == "sierra-process"
    assert deployments["push-to-quickbooks"].schedules == []
