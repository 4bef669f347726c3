"""`sierra-sync up` as a person uses it, checked in a real browser: the world starts on free ports (the
Prefect port asked for is taken), a seeded company is connected and reconciled from the command line
(which uses the world's Prefect server), and headless Chromium finds in the Prefect UI every deployment
Ready, the reconcile run and its reconciliation artifact; `sierra-sync down` then leaves no process.

Whatever fails, the fixture stops the world and kills anything of it that is left."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.seed.generate import seed
from sierra_core.db import migrate
from sierra_core.db.engine import make_engine
from sierra_sync.world.ports import free_port
from tests.browser import screenshot_path
from tests.processes import MARK, left_behind, marked_processes

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "sierra_sync"]


@dataclass
class World:
    env: dict[str, str]
    mark: str
    company: str

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    data_dir = tmp_path / ".sierra"
    mark = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIERRA_", "PREFECT_"))}
    env.update(SIERRA_DATA_DIR=str(data_dir), **{MARK: mark})
    data_dir.mkdir()
    engine = make_engine(f"sqlite:///{data_dir.resolve()}/sierra.db")
    migrate.upgrade(engine)
    seed(engine, companies=1, invoices=8)
    with engine.connect() as conn:
        company = str(conn.exec_driver_sql("SELECT name FROM companies").scalar_one())
    engine.dispose()
    running = World(env, mark, company)
    try:
        yield running
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            running.cli("down", timeout=120)
        for pid in marked_processes(mark):  # the last resort: nothing of the world outlives the test
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _prefect(api: str, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    answer = httpx.post(f"{api}{path}", json=body, timeout=30)
    answer.raise_for_status()
    found: list[dict[str, Any]] = answer.json()
    return found


@pytest.mark.timeout(600)
def test_up_shows_ready_deployments_a_run_and_its_artifact_in_the_prefect_ui_then_down(
    world: World, page: Any
) -> None:
    started = time.monotonic()
    with socket.socket() as taken:  # the Prefect port asked for is in use: the world takes a free one
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        asked = taken.getsockname()[1]
        ports = [str(free_port("127.0.0.1")) for _ in range(4)]
        up = world.cli(
            "up", "--prefect-port", str(asked), "--qbo-port", ports[0], "--stripe-port", ports[1],
            "--api-port", ports[2], "--xero-port", ports[3], "--json",
        )  # fmt: skip
    assert up.returncode == 0, up.stderr[-3000:]
    urls = json.loads(up.stdout)
    assert urls["running"] is True
    assert not urls["prefect_ui"].endswith(f":{asked}")
    assert urls["api"].endswith(f":{ports[2]}") and urls["quickbooks"].endswith(f":{ports[0]}")
    assert urls["xero"] == f"http://127.0.0.1:{ports[3]}"
    assert httpx.get(f"{urls['xero']}/__sandbox/stats", timeout=10).status_code == 200
    assert set(urls["services"]) == {"prefect", "sandbox", "worker", "api", "watch", "runner"}
    ui, api = urls["prefect_ui"], urls["prefect_api"]
    assert httpx.get(f"{ui}/ui-settings", timeout=10).json()["api_url"] == api
    status = world.cli("status", "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["prefect_api"] == api
    up_s = time.monotonic() - started

    connect = world.cli("connect", "quickbooks", "--company", world.company, "--no-browser")
    assert connect.returncode == 0, connect.stderr
    reconcile = world.cli("run", "reconcile", "--company", world.company, "--json")
    assert reconcile.returncode == 0, reconcile.stderr[-3000:]
    assert json.loads(reconcile.stdout)["records_total"] > 0
    for noise in ("Still processing items", "alembic", "Traceback", "temporary server"):
        assert noise not in reconcile.stderr, reconcile.stderr[-3000:]  # and no temporary Prefect server
    runs = _prefect(api, "/flow_runs/filter", {"flows": {"name": {"any_": ["reconcile"]}}})
    assert [r["state_type"] for r in runs] == ["COMPLETED"]
    artifacts = _prefect(api, "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [runs[0]["id"]]}}})
    # The reconciliation summary: a keyed artifact of that run (the key's wording is the flows' own).
    keys = [a["key"] for a in artifacts if a.get("key") and "reconcil" in a["key"]]
    assert keys, artifacts

    page.goto(f"{ui}/deployments")
    page.get_by_text("Ready", exact=True).first.wait_for(timeout=60_000)
    shown = page.inner_text("body")
    assert "Not Ready" not in shown
    assert shown.count("Ready") >= 10  # a full first page of the 16, each Ready
    page.screenshot(path=str(screenshot_path("world-deployments-ready")))
    page.goto(f"{ui}/runs")
    page.get_by_text(runs[0]["name"]).first.wait_for(timeout=60_000)
    page.screenshot(path=str(screenshot_path("world-reconcile-run")))
    page.goto(f"{ui}/artifacts")
    page.get_by_text(keys[0]).first.wait_for(timeout=60_000)
    page.screenshot(path=str(screenshot_path("world-reconciliation-artifact")))

    down = world.cli("down")
    assert down.returncode == 0, down.stderr
    assert "stopped" in down.stdout
    assert left_behind(world.mark) == {}
    assert json.loads(world.cli("status", "--json").stdout)["running"] is False
    print(f"world up in {up_s:.0f} s; whole test {time.monotonic() - started:.0f} s")
