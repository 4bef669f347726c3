"""sierra_core.shutdown, in this process: the signal handling, the worker-thread wait and its grace, and
ending child processes (one, or a whole process group)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from sierra_core.shutdown import (
    ForcedStop,
    StopRequest,
    WorkAbandoned,
    run_until_stopped,
    stop_on_signals,
    terminate,
)
from tests.processes import group_alive


def _signal_self(sig: int) -> None:
    os.kill(os.getpid(), sig)
    time.sleep(0.05)  # the handler runs in this (main) thread at the next bytecode boundary


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_first_signal_asks_for_a_stop_and_the_second_forces_it(sig):
    stop = StopRequest()
    seen: list[str] = []
    before = signal.getsignal(sig)

    def run() -> None:
        with stop_on_signals(stop):
            stop.on_stop(lambda: seen.append("callback"))
            stop.at_exit(lambda: seen.append("cleanup"))
            _signal_self(sig)
            assert stop.requested() and stop.signum == sig
            assert seen == ["callback"]
            _signal_self(sig)

    with pytest.raises(ForcedStop) as forced:
        run()
    assert forced.value.exit_code == 128 + sig
    assert seen == ["callback", "cleanup"]  # the cleanups ran on the way out all the same
    assert signal.getsignal(sig) is before


def test_a_callback_registered_after_the_request_runs_at_once():
    stop = StopRequest()
    stop.request()
    seen: list[int] = []
    stop.on_stop(lambda: seen.append(1))
    assert seen == [1]


def test_work_runs_in_a_worker_thread_and_hands_back_its_result_or_error():
    stop = StopRequest()
    assert run_until_stopped(threading.current_thread, stop, grace=1) is not threading.main_thread()

    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        run_until_stopped(fail, stop, grace=1)


def test_after_a_stop_the_work_may_finish_within_the_grace():
    stop = StopRequest()

    def unit_then_stop() -> str:
        stop.request()
        time.sleep(0.3)  # the unit in hand
        return "finished"

    assert run_until_stopped(unit_then_stop, stop, grace=5) == "finished"


def test_work_still_busy_after_the_grace_is_abandoned():
    stop = StopRequest()
    release = threading.Event()

    def stuck() -> None:
        stop.request()
        release.wait(30)

    started = time.monotonic()
    with pytest.raises(WorkAbandoned, match="retry sweep"):
        run_until_stopped(stuck, stop, grace=0.3)
    assert time.monotonic() - started < 5
    release.set()


def test_terminate_kills_a_child_that_ignores_sigterm_after_the_grace():
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    assert child.stdout is not None
    with child.stdout:
        assert child.stdout.readline().strip() == b"ready"
    terminate(child, grace=0.5)
    assert child.returncode == -signal.SIGKILL


def test_terminate_with_group_ends_the_grandchildren_too():
    child = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60"], start_new_session=True)
    time.sleep(0.2)
    terminate(child, group=True, grace=5)
    assert child.returncode is not None
    assert not group_alive(child.pid)
