"""A forwarded Ctrl-C reaches the run even when Python loses its KeyboardInterrupt (one raised inside a
weakref callback or a __del__ is only printed as "Exception ignored"): the runner's fork raises the signal
again while the run goes on, and stops as soon as it ended."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import pytest

from sierra_sync.world import runner


def test_a_lost_interrupt_is_raised_again_until_the_run_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "SIGNAL_REPEAT_AFTER_S", 0.2)
    received: list[float] = []
    done = threading.Event()

    def swallowed(_signum: int, _frame: Any) -> None:  # the run does not notice the first two
        received.append(time.monotonic())
        if len(received) == 2:
            done.set()

    previous = signal.signal(signal.SIGUSR1, swallowed)
    try:
        worker = threading.Thread(target=runner._raise_until_done, args=(signal.SIGUSR1, done))
        worker.start()
        deadline = time.monotonic() + 10
        while worker.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)  # the main thread runs Python code, so the handler runs
        assert not worker.is_alive()
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert len(received) == 2  # raised again once, then no more: the run had ended


def test_the_signal_is_raised_a_bounded_number_of_times(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "SIGNAL_REPEAT_AFTER_S", 0.05)
    received: list[int] = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, _f: received.append(signum))
    try:
        worker = threading.Thread(target=runner._raise_until_done, args=(signal.SIGUSR1, threading.Event()))
        worker.start()
        deadline = time.monotonic() + 10
        while worker.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not worker.is_alive()
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert received == [signal.SIGUSR1] * runner.SIGNAL_REPEATS
