"""Orderly stop of the long-running commands (watch, api serve, webhooks serve, serve, sandbox, demo).

One mechanism for all of them:

- `stop_on_signals()` turns the first SIGTERM or SIGINT into a stop request (`STOP`): the command stops
  taking new work, finishes the unit in hand, and exits 0. A second signal while stopping raises
  `ForcedStop` in the main thread: exit status 128 + the signal number (130 for SIGINT, 143 for SIGTERM).
  Either way the cleanups registered with `at_exit` run when the block ends: children are stopped.
- `run_until_stopped(work)` runs the work in a worker thread while the main thread waits. Signals are only
  delivered to the main thread, so no library can take them over (Prefect's flow engine swaps SIGTERM for a
  handler that raises `TerminationSignal` anywhere in a running flow); the work checks `STOP.requested()`
  between units (a push between its batch requests). If it is still busy `grace` seconds after the
  request, it is abandoned (`WorkAbandoned`): every write it made is already committed with its sync-log
  row, and an attempt left in progress is taken again by the durable retry sweep.
- `terminate()` ends a child process (or its process group): SIGTERM, wait, SIGKILL after the grace.

Nothing here imports Prefect: `stop_prefect_temporary_server` only looks at the module if it is loaded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TypeVar

__all__ = [
    "STOP",
    "STOP_SIGNALS",
    "ForcedStop",
    "StopRequest",
    "WorkAbandoned",
    "exit_now",
    "run_until_stopped",
    "stop_on_signals",
    "stop_prefect_temporary_server",
    "terminate",
]

T = TypeVar("T")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
CHILD_GRACE_S = 10.0  # SIGTERM -> SIGKILL for a child process
_POLL_S = 0.1  # how often waits look at the stop flag


class ForcedStop(BaseException):
    """A second SIGTERM/SIGINT arrived while stopping: stop at once (exit status 128 + signal). Like
    KeyboardInterrupt it is no Exception (no `except Exception` swallows it); unlike it, the command line
    framework does not turn it into a silent exit, so the entry point can end the process at once."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class WorkAbandoned(Exception):
    """The work was still running `grace` seconds after the stop request; the process stops without it."""

    def __init__(self, grace: float) -> None:
        super().__init__(
            f"stopped without waiting more than {grace:g} s for the work in hand; "
            "attempts left in progress are taken again by the retry sweep"
        )


class StopRequest:
    """This process's stop request (signals are process-wide, so is this), and what to do on the way out.

    Signal-safe: the handler runs in the main thread between two bytecodes, possibly while that thread holds
    a lock, so nothing the handler calls takes one (a plain flag, waits that poll it). `on_stop` callbacks
    run when the stop is requested, from the handler: keep them short and idempotent (set an event or a
    flag). `at_exit` cleanups run last-in first-out when `stop_on_signals` ends.
    """

    def __init__(self) -> None:
        self._requested = False
        self.signum: int | None = None
        self._callbacks: list[Callable[[], object]] = []
        self._cleanups = contextlib.ExitStack()

    def requested(self) -> bool:
        """True once a stop was asked for (a signal, or `request()`)."""
        return self._requested

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep until a stop is requested (or `timeout` seconds pass); True when it was."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._requested:
            left = _POLL_S if deadline is None else min(_POLL_S, deadline - time.monotonic())
            if left <= 0:
                return False
            time.sleep(left)
        return True

    def request(self, signum: int | None = None) -> None:
        """Ask for an orderly stop: set the flag and run the `on_stop` callbacks."""
        if self._requested:
            return
        self.signum = signum
        self._requested = True
        for callback in list(self._callbacks):
            callback()

    def on_stop(self, callback: Callable[[], object]) -> None:
        """Call `callback` when the stop is requested (at once if it already was)."""
        self._callbacks.append(callback)
        if self._requested:
            callback()

    def at_exit(self, cleanup: Callable[[], object]) -> None:
        """Run `cleanup` when the command ends, after the work (children stopped last-in first-out)."""
        self._cleanups.callback(cleanup)

    def run_cleanups(self) -> None:
        """Run (and forget) the registered cleanups; every one runs even when another raised."""
        stack, self._cleanups = self._cleanups, contextlib.ExitStack()
        stack.close()

    def reset(self) -> None:
        """Forget a previous request and its callbacks (a process that runs several commands: tests)."""
        self._requested = False
        self.signum = None
        self._callbacks.clear()


STOP = StopRequest()


@contextmanager
def stop_on_signals(stop: StopRequest = STOP) -> Iterator[StopRequest]:
    """Within the block, SIGTERM and SIGINT request an orderly stop and a second one raises `ForcedStop`;
    on leaving it, the cleanups run (Prefect's temporary server included) and the old handlers return.
    Call from the main thread."""
    cleaning = False

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.requested() and not cleaning:
            raise ForcedStop(signum)
        stop.request(signum)  # while cleaning up, a further signal changes nothing: every wait is bounded

    stop.reset()
    stop.at_exit(stop_prefect_temporary_server)
    previous = {sig: signal.signal(sig, handle) for sig in STOP_SIGNALS}
    try:
        yield stop
    finally:
        cleaning = True
        try:
            stop.run_cleanups()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def run_until_stopped(work: Callable[[], T], stop: StopRequest = STOP, *, grace: float) -> T:
    """Run `work()` in a worker thread and return its result (or raise its exception). After a stop
    request, wait at most `grace` more seconds for it, then raise `WorkAbandoned`."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as err:  # handed to the main thread, raised there
            outcome["error"] = err

    thread = threading.Thread(target=target, name="sierra-work", daemon=True)
    thread.start()
    while thread.is_alive() and not stop.requested():
        thread.join(_POLL_S)  # short waits: the main thread runs signal handlers between them
    deadline = time.monotonic() + grace
    while thread.is_alive() and time.monotonic() < deadline:
        thread.join(min(_POLL_S, max(0.0, deadline - time.monotonic())))
    if thread.is_alive():
        raise WorkAbandoned(grace)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]  # a BaseException by construction
    return outcome["value"]  # type: ignore[return-value]  # what work() returned


def _alive(process: subprocess.Popen[bytes] | int, group: bool) -> bool:
    """Whether the process (with `group`: any process of its group) still exists; reaps our own child."""
    if isinstance(process, subprocess.Popen):
        if process.poll() is None:
            return True
        if not group:
            return False
    pid = process.pid if isinstance(process, subprocess.Popen) else process
    try:
        os.killpg(pid, 0) if group else os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def terminate(
    process: subprocess.Popen[bytes] | int, *, group: bool = False, grace: float = CHILD_GRACE_S
) -> None:
    """End a child process (a Popen, or a pid) and, with `group`, its whole process group: SIGTERM, wait up
    to `grace` seconds, then SIGKILL. Quietly nothing when it is already gone."""
    pid = process.pid if isinstance(process, subprocess.Popen) else process

    def send(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if group:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)

    send(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _alive(process, group) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(process, group):
        send(signal.SIGKILL)
        if isinstance(process, subprocess.Popen):
            process.wait()


def stop_prefect_temporary_server() -> None:
    """Stop the temporary Prefect API server (a uvicorn child process) that Prefect starts when no
    PREFECT_API_URL is set. Prefect stops it from an atexit hook only, which never runs in a process that a
    signal ends; stopping it here does not depend on how the process ends."""
    module = sys.modules.get("prefect.server.api.server")
    server_class = getattr(module, "SubprocessASGIServer", None)
    if server_class is None:
        return
    api_url = getattr(sys.modules.get("prefect.settings"), "PREFECT_API_URL", None)
    if api_url is not None and api_url.value():
        return  # a configured server (or a test harness's): not a temporary one of this process
    server_class().stop()  # the default (port-less) instance: terminate, wait 5 s, kill


def exit_now(code: int) -> None:
    """Flush the standard streams and end the process with `code` at once, without waiting for a worker
    thread that was abandoned (the cleanups have run by then)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
