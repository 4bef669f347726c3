"""The local world's bookkeeping (sierra_sync/world/): pid files that went stale, ports already taken, and a
start that fails half-way stopping everything it had started."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sierra_core.errors import SierraError
from sierra_core.shutdown import StopRequest
from sierra_sync.world.ports import choose_ports
from sierra_sync.world.processes import spawn, stop_all
from sierra_sync.world.state import MARK_ENV, Service, WorldState, marked_pids, prefect_api_url
from sierra_sync.world.up import UpOptions, World

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


@pytest.fixture
def state(tmp_path: Path) -> Iterator[WorldState]:
    world = WorldState(tmp_path / ".sierra")
    yield world
    stop_all(world, grace=2.0)  # whatever a failing test left running
    assert marked_pids(world.mark) == set()


def test_a_record_of_a_dead_process_is_stale_and_removed(state: WorldState) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    state.save(Service("prefect", gone.pid, {"prefect_api": "http://127.0.0.1:1/api"}))
    assert state.running() == []
    assert prefect_api_url(state.dir.parent) is None
    assert state.clear_stale() == ["prefect"]
    assert state.records() == []


def test_a_reused_pid_without_the_world_mark_is_stale(state: WorldState) -> None:
    # This test process is alive but was not started by the world: its pid in a record is someone else's.
    state.save(Service("api", os.getpid(), {"api": "http://127.0.0.1:1"}))
    assert state.clear_stale() == ["api"]


def test_an_unreadable_record_is_dropped(state: WorldState) -> None:
    state.dir.mkdir(parents=True)
    (state.dir / "watch.json").write_text("{not json")
    (state.dir / "api.json").write_text(json.dumps({"name": "api"}))  # no pid
    assert state.records() == []
    assert list(state.dir.glob("*.json")) == []


def test_a_live_marked_service_is_running_and_down_stops_it_and_its_children(state: WorldState) -> None:
    # A service that starts a child of its own, as the worker starts flow runs.
    parent = [
        sys.executable,
        "-c",
        "import subprocess, sys, time; subprocess.Popen(sys.argv[1:]); time.sleep(120)",
    ]
    service = spawn(state, "worker", [*parent, *SLEEPER], dict(os.environ), {}, state.dir.parent)
    assert [s.name for s in state.running()] == ["worker"]
    assert carries_mark_soon(state, 2)
    assert stop_all(state, grace=5.0) == ["worker"]
    assert marked_pids(state.mark) == set()
    assert state.records() == []
    assert not Path(f"/proc/{service.pid}").exists() or "Z" in Path(f"/proc/{service.pid}/stat").read_text()


def test_down_reaps_a_service_that_ended_by_itself_and_one_whose_record_was_replaced(
    state: WorldState,
) -> None:
    # Both were started by this process: once down returns, neither is left behind, not even as a zombie.
    ended = spawn(state, "sandbox", [sys.executable, "-c", "pass"], dict(os.environ), {}, state.dir)
    replaced = spawn(state, "watch", SLEEPER, dict(os.environ), {}, state.dir)
    spawn(state, "watch", SLEEPER, dict(os.environ), {}, state.dir)  # its record replaces the first one's
    deadline = time.monotonic() + 30
    while state.is_running(ended):
        assert time.monotonic() < deadline, "the service did not end by itself"
        time.sleep(0.05)
    assert stop_all(state, grace=5.0) == ["watch"]
    assert marked_pids(state.mark) == set()
    assert not Path(f"/proc/{ended.pid}").exists()  # reaped, not a zombie kept until this process ends
    assert not Path(f"/proc/{replaced.pid}").exists()


def carries_mark_soon(state: WorldState, count: int) -> bool:
    deadline = time.monotonic() + 10
    while len(marked_pids(state.mark)) < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_prefect_api_url_comes_from_the_running_server_record(state: WorldState) -> None:
    spawn(
        state, "prefect", SLEEPER, dict(os.environ), {"prefect_api": "http://127.0.0.1:4321/api"}, state.dir
    )
    assert prefect_api_url(state.dir.parent) == "http://127.0.0.1:4321/api"


def test_taken_ports_are_replaced_by_free_ones_and_never_twice() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        ports = choose_ports("127.0.0.1", {"prefect": busy, "api": busy, "quickbooks": 0})
    assert ports["prefect"] != busy and ports["api"] != busy
    assert len(set(ports.values())) == 3


def test_a_free_default_port_is_kept() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert choose_ports("127.0.0.1", {"api": free}) == {"api": free}


def test_a_start_that_fails_half_way_stops_what_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / ".sierra"
    monkeypatch.setenv("SIERRA_DATA_DIR", str(data_dir))
    monkeypatch.delenv("SIERRA_DATABASE_URL", raising=False)
    from sierra_core.settings import get_settings

    get_settings.cache_clear()
    # The Stripe sandbox cannot read its state file: the sandbox process stops while starting, after the
    # Prefect server was started.
    (data_dir / "sandbox").mkdir(parents=True)
    (data_dir / "sandbox" / "stripe.json").write_text("{broken")
    lines: list[str] = []
    world = World(
        UpOptions(data_dir=data_dir, prefect_port=0, qbo_port=0, stripe_port=0, api_port=0, xero_port=0),
        lines.append,
        StopRequest(),
    )
    try:
        with pytest.raises(SierraError, match="sandbox stopped while starting") as failed:
            world.start()
    finally:
        get_settings.cache_clear()
    assert "stripe.json" in failed.value.message  # the sandbox's one-line reason, from its log
    assert any(line.startswith("rolled back: stopped") and "prefect" in line for line in lines), lines
    assert marked_pids(world.state.mark) == set()
    assert world.state.records() == []


def test_the_mark_is_in_every_service_environment(state: WorldState) -> None:
    service = spawn(state, "watch", SLEEPER, dict(os.environ), {}, state.dir.parent)
    environ = Path(f"/proc/{service.pid}/environ").read_bytes().split(b"\0")
    assert f"{MARK_ENV}={state.mark}".encode() in environ


def test_status_lists_the_xero_sandbox_beside_quickbooks_and_stripe(state: WorldState) -> None:
    from sierra_sync.world.up import status

    urls = {"quickbooks": "http://127.0.0.1:8701", "stripe": "http://127.0.0.1:8702"}
    spawn(state, "sandbox", SLEEPER, dict(os.environ), urls | {"xero": "http://127.0.0.1:8704"}, state.dir)
    report = status(state.dir.parent)
    assert report["running"] is True and report["services"].keys() == {"sandbox"}
    assert (report["quickbooks"], report["stripe"], report["xero"]) == (
        "http://127.0.0.1:8701",
        "http://127.0.0.1:8702",
        "http://127.0.0.1:8704",
    )
    printed = subprocess.run(
        [sys.executable, "-m", "sierra_sync", "status"],
        capture_output=True,
        text=True,
        env={**os.environ, "SIERRA_DATA_DIR": str(state.dir.parent)},
        timeout=60,
        check=False,
    )
    assert printed.returncode == 0, printed.stderr
    assert "Xero sandbox      http://127.0.0.1:8704" in printed.stdout
