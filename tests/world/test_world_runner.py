"""`sierra-sync run` through the local world's runner (sierra_sync/world/runner.py): the same output, exit
status and real Prefect flow run as when the command runs the flow itself, without importing Prefect in
the command's process; Ctrl-C still ends the run (the flow run is marked, not left Running); with the
runner gone the command runs the flow itself.

The world here is the part of it that `run` uses: a record of its Prefect server (pointing at the test
session's temporary Prefect server) and the runner, as `up` starts it (a detached process with the
world's mark)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.types import SecretDict

from blocks import TOKEN_KEYS_BLOCK, TokenEncryptionKeys
from sierra_core.db import migrate
from sierra_core.db.engine import make_engine
from sierra_sync.world.processes import base_env, spawn, stop_all
from sierra_sync.world.runner import RUNNER, SOCKET_URL_KEY, address_for, ping, world_runner
from sierra_sync.world.state import WorldState, marked_pids, pid_alive
from sierra_sync.world.up import PROJECT_DIR
from tests.connectors.quickbooks import oauth_helpers as h

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "sierra_sync"]
SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


@dataclass
class MiniWorld:
    state: WorldState
    api: str
    env: dict[str, str]  # a user's environment: no PREFECT_API_URL, the world's data directory
    cwd: Path
    before: set[str]  # the flow runs on the server before the test

    def cli(self, *args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args],
            env={**self.env, **(extra or {})},
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def in_process(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.cli(*args, extra={"SIERRA_RUN_IN_PROCESS": "1"})

    def flow_runs(self, flow: str) -> list[dict[str, Any]]:
        """The runs of `flow` this test made (the Prefect server is the test session's)."""
        answer = httpx.post(
            f"{self.api}/flow_runs/filter", json={"flows": {"name": {"any_": [flow]}}}, timeout=30
        )
        answer.raise_for_status()
        return [r for r in answer.json() if r["id"] not in self.before]


@pytest.fixture
def world(tmp_path: Path, prefect_api: str) -> Iterator[MiniWorld]:
    data_dir = tmp_path / ".sierra"
    data_dir.mkdir()
    engine = make_engine(f"sqlite:///{data_dir / 'sierra.db'}")
    migrate.upgrade(engine)
    engine.dispose()
    state = WorldState(data_dir)
    # what `up` saves (the runs read it: deliver-webhooks unseals subscription secrets), whatever ran before
    TokenEncryptionKeys(keys=SecretDict({"k1": h.KEY_TEXT}), created={"k1": h.KEY_CREATED}).save(
        TOKEN_KEYS_BLOCK, overwrite=True
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIERRA_", "PREFECT_"))}
    env.update(SIERRA_DATA_DIR=str(data_dir), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    service_env = {**base_env(), **env}
    try:
        spawn(state, "prefect", SLEEPER, service_env, {"prefect_api": prefect_api}, tmp_path)
        address = address_for(state)
        argv = [sys.executable, "-m", "sierra_sync.world.runner", "--address", address]
        argv += ["--modules", str(state.dir / "runner.modules")]
        runner = spawn(state, RUNNER, argv, service_env, {SOCKET_URL_KEY: address}, PROJECT_DIR)
        deadline = time.monotonic() + 120
        while not ping(address):
            assert pid_alive(runner.pid), Path(runner.log).read_text()[-2000:]
            assert time.monotonic() < deadline, "the runner did not answer within 120 s"
            time.sleep(0.2)
        assert world_runner(data_dir) == (address, prefect_api)
        before = httpx.post(f"{prefect_api}/flow_runs/filter", json={}, timeout=30).json()
        yield MiniWorld(state, prefect_api, env, tmp_path, {r["id"] for r in before})
    finally:
        stop_all(state, grace=5.0)
        assert marked_pids(state.mark) == set()


def _imports(stderr: str) -> set[str]:
    """The modules `python -X importtime` reports the command's own process importing."""
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def test_a_run_through_the_world_gives_the_result_of_a_run_in_process_as_a_real_flow_run(
    world: MiniWorld,
) -> None:
    via_world = world.cli("run", "retry-failed-syncs", "--json", extra={"PYTHONPROFILEIMPORTTIME": "1"})
    assert via_world.returncode == 0, via_world.stderr[-3000:]
    here = world.in_process("run", "retry-failed-syncs", "--json")
    assert here.returncode == 0, here.stderr[-3000:]
    assert json.loads(via_world.stdout) == json.loads(here.stdout)
    assert json.loads(via_world.stdout)["records"] == 0

    imported = _imports(via_world.stderr)
    assert "sierra_sync.cli.main" in imported  # the report is the command's own
    assert "prefect" not in imported and "flows.registry" not in imported
    runs = world.flow_runs("retry-failed-syncs")
    assert sorted(r["state_type"] for r in runs) == ["COMPLETED", "COMPLETED"]
    assert {r["name"] for r in runs} == {"retry sweep · all companies"}

    text = world.cli("run", "retry-failed-syncs")  # without --json: Prefect's log lines, then the result
    assert text.returncode == 0, text.stderr[-3000:]
    assert "Beginning flow run 'retry sweep · all companies'" in text.stderr
    assert json.loads(text.stdout)["companies"] == 0


def test_errors_through_the_world_are_the_ones_of_a_run_in_process(world: MiniWorld) -> None:
    for args in (
        ("run", "no-such-flow"),
        ("run", "retry-failed-syncs", "--param", "limit=many"),
        ("run", "retry-failed-syncs", "--param", "nokey"),
        ("run", "reconcile", "--company", "Nobody Builders"),
        ("run", "--no-such-option"),
    ):
        via_world, here = world.cli(*args), world.in_process(*args)
        assert (via_world.returncode, via_world.stderr) == (here.returncode, here.stderr), args
        assert via_world.returncode != 0 and via_world.stderr.startswith("error: "), args
        assert len(via_world.stderr.strip().splitlines()) == 1, via_world.stderr


def test_ctrl_c_ends_the_run_in_the_world_and_its_flow_run(world: MiniWorld) -> None:
    command = subprocess.Popen(
        [*CLI, "run", "deliver-webhooks", "--param", "run_for_s=120"],
        env=world.env,
        cwd=world.cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not [r for r in world.flow_runs("deliver-webhooks") if r["state_type"] == "RUNNING"]:
            assert command.poll() is None, command.communicate()
            assert time.monotonic() < deadline, "the flow run never started"
            time.sleep(0.2)
        command.send_signal(signal.SIGINT)
        _, stderr = command.communicate(timeout=60)
    finally:
        if command.poll() is None:
            command.kill()
            command.communicate()
    assert command.returncode == 130, stderr[-3000:]
    assert "aborted by an interrupt signal" in stderr
    assert [r["state_type"] for r in world.flow_runs("deliver-webhooks")] == ["CRASHED"]


def test_without_the_runner_the_command_runs_the_flow_itself(world: MiniWorld) -> None:
    runner = next(s for s in world.state.records() if s.name == RUNNER)
    os.kill(runner.pid, signal.SIGKILL)  # its record stays behind, stale
    deadline = time.monotonic() + 10
    while world.state.is_running(runner) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert world_runner(world.state.dir.parent) is None
    done = world.cli("run", "retry-failed-syncs", "--json", extra={"PYTHONPROFILEIMPORTTIME": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "prefect" in _imports(done.stderr)
    assert json.loads(done.stdout[done.stdout.index("{") :])["records"] == 0
