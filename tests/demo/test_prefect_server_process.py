"""The demo's Prefect server process: one kept running (`demo --keep-server`) outlives its PrefectServer
object without a "subprocess ... is still running" warning, and stopping it later reaps it (no zombie)."""

from __future__ import annotations

import gc
import warnings
from pathlib import Path

import pytest

from sierra_sync.demo import prefect_server
from sierra_sync.demo.prefect_server import PrefectServer


@pytest.fixture
def sleeper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`prefect server start` stood in for by a script that only sleeps."""
    script = tmp_path / "prefect"
    script.write_text("#!/bin/sh\nexec sleep 60\n")
    script.chmod(0o755)
    monkeypatch.setattr(prefect_server, "_prefect_executable", lambda: str(script))
    return tmp_path / "prefect-home"


def test_a_server_kept_running_warns_nothing_and_a_later_stop_reaps_it(sleeper: Path) -> None:
    server = PrefectServer(home=sleeper, port=0)
    server.launch()
    pid = server.pid
    assert pid is not None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del server  # the demo returned, the server kept running
            gc.collect()
        assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
        assert Path(f"/proc/{pid}").exists()
    finally:
        later = PrefectServer(home=sleeper, port=0)
        later.pid = pid  # as try_reuse finds it in the state file
        later.stop(timeout=5)
    assert not Path(f"/proc/{pid}").exists()  # ended and reaped, not left a zombie
