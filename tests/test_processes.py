"""The test helpers that start processes leave none behind, also when the process does not stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid

import pytest

from tests.processes import MARK, communicate_all, finish, left_behind

IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
    "time.sleep(60)"
)


def _start(code: str, mark: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        env={**os.environ, MARK: mark},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_finish_returns_the_output_of_a_process_that_stops() -> None:
    mark = uuid.uuid4().hex
    proc = _start("import time; print('ready', flush=True); time.sleep(60)", mark)
    assert finish(proc, within=20) == ""
    assert proc.returncode == -signal.SIGTERM
    assert left_behind(mark, settle=0) == {}


def test_finish_kills_and_reaps_a_process_that_ignores_the_signal_then_fails() -> None:
    mark = uuid.uuid4().hex
    proc = _start(IGNORES_SIGTERM, mark)
    with pytest.raises(AssertionError, match="still running 1 s after SIGTERM, killed"):
        finish(proc, within=1)
    assert proc.returncode == -signal.SIGKILL  # waited for: no "subprocess ... is still running" later
    assert left_behind(mark, settle=0) == {}


def test_communicate_all_returns_every_output_or_leaves_no_process_on_a_timeout() -> None:
    mark = uuid.uuid4().hex
    quick = [_start("import sys; print('ready', flush=True); sys.exit(3)", mark) for _ in range(2)]
    assert len(communicate_all(quick, timeout=20)) == 2
    assert [proc.returncode for proc in quick] == [3, 3]
    slow = [_start(code, mark) for code in ("import time; print('ready', flush=True); time.sleep(60)",) * 2]
    with pytest.raises(subprocess.TimeoutExpired):
        communicate_all(slow, timeout=0.5)
    assert all(proc.poll() is not None for proc in slow)
    assert left_behind(mark) == {}
