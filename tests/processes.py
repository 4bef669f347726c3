"""A `sierra-sync` command run as a user runs it, for stop tests: its own process group, every process it
starts (and theirs) found by a marker in the environment they inherit, so a child that moved to another
session (the demo's Prefect server) or was re-parented to init after its parent died is still found."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

CLI = [sys.executable, "-m", "sierra_sync"]
MARK = "SIERRA_TEST_PROCESS_MARK"


def marked_processes(mark: str) -> dict[int, str]:
    """pid -> command line of every live process whose environment carries MARK=mark (zombies excluded)."""
    wanted = f"{MARK}={mark}".encode()
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if wanted not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if state != "Z":
            found[int(entry.name)] = command.strip()[:200]
    return found


def left_behind(mark: str, settle: float = 5.0) -> dict[int, str]:
    """The marked processes still alive after up to `settle` seconds (a child may take a moment to go)."""
    deadline = time.monotonic() + settle
    while (left := marked_processes(mark)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def finish(proc: subprocess.Popen[str], sig: int = signal.SIGTERM, within: float = 20.0) -> str:
    """Send `sig` to a started process and return its output (stdout, when piped) once it has exited. Still
    running `within` seconds later: killed and waited for (nothing survives the test), then a failure."""
    proc.send_signal(sig)  # nothing when it has already exited and was waited for
    try:
        out, _ = proc.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        name = signal.Signals(sig).name
        raise AssertionError(f"still running {within:.0f} s after {name}, killed:\n{out}") from None
    return out or ""


def communicate_all(procs: list[subprocess.Popen[str]], timeout: float) -> list[tuple[str, str]]:
    """The (stdout, stderr) of every process once it has exited; when one does not within `timeout`, the
    timeout propagates and none of them outlives the test (each still running is killed and waited for)."""
    try:
        return [proc.communicate(timeout=timeout) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


class Command:
    """A started command: its output lines (stdout and stderr together) gathered by a thread."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        self.mark = uuid.uuid4().hex
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [*CLI, *args],
            env={**env, MARK: self.mark},
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, like a service under a supervisor
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.proc.stdout:  # closed at the end of the output (no ResourceWarning)
            for line in self.proc.stdout:
                self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 120.0) -> None:
        """Until a line containing `text` was printed (the command is ready); fails if it exits first."""
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert self.proc.poll() is None, f"exited {self.proc.returncode} before {text!r}:\n{self.output}"
            assert time.monotonic() < deadline, f"no {text!r} within {timeout:.0f} s:\n{self.output}"
            time.sleep(0.05)

    def processes(self) -> dict[int, str]:
        """The command's live processes: itself and every descendant."""
        return marked_processes(self.mark)

    def stop(self, sig: int, within: float) -> float:
        """Send `sig`, wait for the exit (at most `within` seconds, else kill the lot and fail); returns the
        seconds it took."""
        sent = time.monotonic()
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"still running {within:.0f} s after {signal.Signals(sig).name}:\n{self.output}"
            ) from None
        self._reader.join(10)
        return time.monotonic() - sent

    def left_behind(self, settle: float = 5.0) -> dict[int, str]:
        """Processes of the command still alive once it has exited (waits up to `settle` s for them to go)."""
        return left_behind(self.mark, settle)

    def kill(self) -> None:
        """Test teardown: nothing of the command survives the test, whatever happened."""
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._reader.join(10)


def assert_clean_stop(command: Command, *, code: int = 0) -> None:
    """Exit status `code`, no traceback and no ERROR line, no process of the command left anywhere."""
    out = command.output
    assert command.left_behind() == {}, out
    assert not group_alive(command.proc.pid), out
    assert command.proc.returncode == code, out
    assert "Traceback" not in out, out
    assert "ERROR" not in out, out
