"""Start a world service as a detached process (its own session, output to a log file, the world's mark in
its environment) and stop them all: SIGTERM, wait, SIGKILL (sierra_core.shutdown.terminate), then every
process still carrying the mark (a flow run the worker started, a server's child)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sierra_core.errors import SierraError
from sierra_core.shutdown import STOP, StopRequest, terminate
from sierra_sync.world.state import MARK_ENV, Service, WorldState, carries_mark, marked_pids

# The processes this process started, with the mark of their world: kept (never garbage-collected while
# running) and reaped when stopped, also when one ended on its own or its record was replaced.
_STARTED: dict[int, tuple[str, subprocess.Popen[bytes]]] = {}
STOP_GRACE_S = 15.0  # per service: SIGTERM -> SIGKILL (the worker cancels its runs; the servers finish)


def executable(name: str) -> str:
    """A console script of this environment (`prefect`, `sierra-sync`), beside the running Python."""
    beside = Path(sys.executable).with_name(name)
    if not beside.exists():
        raise SierraError(f"the `{name}` command is not installed in this environment; run `make install`")
    return str(beside)


def spawn(
    state: WorldState, name: str, argv: list[str], env: dict[str, str], urls: dict[str, str], cwd: Path
) -> Service:
    """Start `argv` detached and record it (before it answers: a failed start is rolled back too)."""
    state.logs.mkdir(parents=True, exist_ok=True)
    log = state.logs / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own executables, arguments we built
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**env, MARK_ENV: state.mark},
            cwd=cwd,
            start_new_session=True,  # no terminal signal reaches it; `down` stops its whole group
        )
    _STARTED[process.pid] = (state.mark, process)
    _until_marked(process, state.mark)
    order = max((s.order for s in state.records()), default=0) + 1
    service = Service(name=name, pid=process.pid, urls=urls, log=str(log), order=order)
    state.save(service)
    return service


def _until_marked(process: subprocess.Popen[bytes], mark: str, timeout: float = 10.0) -> None:
    """Wait until the new process carries the mark (it has exec'd: between fork and exec it still has this
    process's environment), so a recorded service is always recognised as running (`is_running`)."""
    if not Path("/proc/self/environ").exists():  # no /proc: marks cannot be read anyway
        return
    deadline = time.monotonic() + timeout
    while not carries_mark(process.pid, mark) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)


def stop_all(state: WorldState, grace: float = STOP_GRACE_S) -> list[str]:
    """Stop every recorded service, the Prefect server last (the others report to it on their way out),
    then anything else carrying the mark; returns the names of the services that were running."""
    services = [s for s in reversed(state.records()) if state.is_running(s)]
    first = [s for s in services if s.name != "prefect"]
    last = [s for s in services if s.name == "prefect"]
    for batch in (first, last):  # in parallel within a batch: each may take its grace
        threads = [threading.Thread(target=_stop, args=(s.pid, grace), name=f"stop-{s.name}") for s in batch]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for service in state.records():
        state.forget(service.name)
    for pid, (mark, process) in list(_STARTED.items()):  # ended by itself, or no longer recorded
        if mark == state.mark:
            del _STARTED[pid]
            if process.poll() is None:
                terminate(process, group=True, grace=grace)
    for pid in marked_pids(state.mark):  # re-parented children, flow-run processes
        with contextlib.suppress(ProcessLookupError):
            terminate(pid, grace=5.0)
    return [s.name for s in services]


def _stop(pid: int, grace: float) -> None:
    """The service's whole process group; reaped when this process started it."""
    _mark, started = _STARTED.pop(pid, (None, None))
    terminate(started if started is not None else pid, group=True, grace=grace)


def wait_until(
    check: Callable[[], bool],
    what: str,
    service: Service,
    state: WorldState,
    timeout: float,
    stop: StopRequest = STOP,
) -> None:
    """Poll `check` until it holds; a SierraError naming the log when the process died or time ran out."""
    deadline = time.monotonic() + timeout
    while not check():
        if stop.requested():
            raise SierraError(f"stopped while waiting for {what}")
        if not state.is_running(service):
            raise SierraError(f"{what} stopped while starting; see {service.log}{_tail(service.log)}")
        if time.monotonic() > deadline:
            raise SierraError(f"{what} did not answer within {timeout:.0f} s; see {service.log}")
        time.sleep(0.2)


def _tail(log: str) -> str:
    """The last non-empty line of a log, as a hint (`: <line>`), or nothing."""
    with contextlib.suppress(OSError):
        lines = [line.strip() for line in Path(log).read_text(errors="replace").splitlines() if line.strip()]
        if lines:
            return f" (last line: {lines[-1][:200]})"
    return ""


def base_env() -> dict[str, str]:
    """The environment of every service: this one, without a Prefect API or profile of the caller's."""
    env = dict(os.environ)
    for key in ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE", "PREFECT_UI_API_URL"):
        env.pop(key, None)
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("DO_NOT_TRACK", "1")
    return env


__all__ = ["base_env", "executable", "spawn", "stop_all", "wait_until"]
