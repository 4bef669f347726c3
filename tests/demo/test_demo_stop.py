"""`sierra-sync demo --keep-server` stopped by SIGINT or SIGTERM: no traceback, exit 0, the step in hand ends,
and no process is left: the Prefect server it started is stopped (--keep-server keeps the server of a
finished demo only), while a server it reused from an earlier run is left as it was.

The second case reuses the session's Prefect test server (as the demo reuses one that `--keep-server` left)
rather than starting one more."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import httpx
import pytest

from sierra_sync.demo.prefect_server import free_port
from tests.processes import Command, assert_clean_stop

pytestmark = pytest.mark.slow

STOP_WITHIN = 40.0
DEMO = ["demo", "--keep-server", "--companies", "1", "--invoices", "20", "--xero-invoices", "20"]


def demo_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIERRA_", "PREFECT_"))}
    env.update(SIERRA_DATA_DIR=str(data_dir), SIERRA_STOP_GRACE_SECONDS="30")
    return env


def test_an_interrupted_demo_stops_the_prefect_server_it_started(tmp_path):
    data_dir = tmp_path / ".sierra"
    command = Command([*DEMO, "--prefect-port", str(free_port("127.0.0.1"))], demo_env(data_dir), tmp_path)
    try:
        command.wait_for("Prefect server: starting at")
        servers = {p: c for p, c in command.processes().items() if "server start" in c}
        assert servers, command.processes()  # `prefect server start`, in a session of its own
        command.stop(signal.SIGINT, STOP_WITHIN)
        assert_clean_stop(command)
        assert "demo stopped before the step" in command.output
        assert not (data_dir / "prefect" / "server.json").exists()
    finally:
        command.kill()


def _pid_serving(port: int) -> int:
    """The process whose command line serves `port` (the session's Prefect test server, a uvicorn)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "uvicorn" in cmd and f"--port {port} " in cmd:
            found.append(int(entry.name))
    assert len(found) == 1, found
    return found[0]


def test_a_demo_stopped_mid_sync_leaves_a_reused_server_running(tmp_path, prefect_api):
    port = int(prefect_api.rsplit(":", 1)[1].split("/", 1)[0])
    state = tmp_path / ".sierra" / "prefect" / "server.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"pid": _pid_serving(port), "port": port}))
    command = Command(DEMO, demo_env(tmp_path / ".sierra"), tmp_path)
    try:
        command.wait_for("Full sync of every company")
        command.stop(signal.SIGTERM, STOP_WITHIN)
        assert_clean_stop(command)
        assert "Prefect server: reusing the one at" in command.output
        assert "demo stopped before the step" in command.output
        assert httpx.get(f"{prefect_api}/health", timeout=10).status_code == 200
        assert state.exists()  # still the server a later demo reuses
    finally:
        command.kill()
