"""The world's runner: `sierra-sync run` without importing Prefect in the command's own process.

Importing Prefect and the flows costs seconds (about 2 s for Prefect alone, 5 s with every flow module,
more under load), which is most of a `sierra-sync run` that has nothing to do. So `up` starts this small
service: it imports all of that once, then listens on a unix socket beside the world's pid files. The
command line (`sierra_sync.cli.main`), when the world runs, sends it the command's arguments, working
directory and environment, and its own stdin/stdout/stderr (SCM_RIGHTS), and waits for the exit status.

Each request is served by a fork of the runner: the fork takes over the caller's three file descriptors,
environment and working directory and runs exactly the command line's `run` (`sierra_sync.cli.main.main`)
in its main thread: the flow runs in that process against the world's Prefect server, a real flow run with
its usual name, logs, artifacts and result; output goes straight to the caller's terminal or pipes; the
exit status is the one the command would have had. Nothing is forked from a process with threads or
connections: the runner only imports, then accepts connections in one thread.

Signals: the caller forwards SIGINT and SIGTERM over the socket and the fork raises them on itself, so a
Ctrl-C ends the flow run as it does in-process (Prefect marks it); if the caller disappears (the socket
closes), the fork gets SIGTERM. The caller's exit status is 128 + the signal when the fork died of one.

Only the user who owns the runner may use it (SO_PEERCRED); the socket file is 0600 in the world's
directory (an abstract socket when that path is too long for a unix socket address).

This module imports only the standard library at the top: the command line imports it to talk to the
runner (`delegate`) and must stay light.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import Any

from sierra_sync.world.state import MARK_ENV, WorldState

__all__ = [
    "RUNNER",
    "SOCKET_URL_KEY",
    "address_for",
    "data_dir_from_env",
    "delegate",
    "ping",
    "serve",
    "world_runner",
]

RUNNER = "runner"  # the service's name in the world's records
SOCKET_URL_KEY = "runner"  # its record's URL key: "unix:<path>" or "unix:@<abstract name>"
OFF_ENV = "SIERRA_RUN_IN_PROCESS"  # "1": `sierra-sync run` runs in its own process even when the world runs
_MAX_PATH = 100  # sun_path holds 108 bytes on Linux, with its terminating NUL
_HEADER = struct.Struct(">I")
_MAX_MESSAGE = 4 << 20


# --- addresses and messages --------------------------------------------------------------------------


def address_for(state: WorldState) -> str:
    """The runner's address for this world: `unix:<path>` under the world's directory, or an abstract
    address named after it when the path would not fit a socket address."""
    path = state.dir / "runner.sock"
    if len(str(path).encode()) <= _MAX_PATH:
        return f"unix:{path}"
    return f"unix:@sierra-sync-runner-{hashlib.sha256(str(state.dir).encode()).hexdigest()[:24]}"


def _sockaddr(address: str) -> str:
    if not address.startswith("unix:"):
        raise ValueError(f"not a runner address: {address!r}")
    name = address.removeprefix("unix:")
    return "\0" + name[1:] if name.startswith("@") else name


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return _HEADER.pack(len(body)) + body


class _Reader:
    """Framed JSON messages from a stream socket (bytes read past a message are kept for the next)."""

    def __init__(self, sock: socket.socket, first: bytes = b"") -> None:
        self.sock = sock
        self.buffer = bytearray(first)

    def _fill(self, size: int) -> bool:
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                return False
            self.buffer += chunk
        return True

    def message(self) -> dict[str, Any] | None:
        """The next message; None at end of stream (a message cut short raises ConnectionError)."""
        if not self._fill(_HEADER.size):
            if self.buffer:
                raise ConnectionError("the connection closed mid-message")
            return None
        (size,) = _HEADER.unpack(self.buffer[: _HEADER.size])
        if size > _MAX_MESSAGE:
            raise ConnectionError("message too large")
        if not self._fill(_HEADER.size + size):
            raise ConnectionError("the connection closed mid-message")
        body = bytes(self.buffer[_HEADER.size : _HEADER.size + size])
        del self.buffer[: _HEADER.size + size]
        found = json.loads(body)
        if not isinstance(found, dict):
            raise ConnectionError("not a message")
        return found


# --- the caller's side ---------------------------------------------------------------------------------


def data_dir_from_env() -> Path:
    """The data directory as the settings read it (SIERRA_DATA_DIR, any case; default .sierra), without
    importing pydantic: the command line's fast path."""
    for key, value in os.environ.items():
        if key.upper() == "SIERRA_DATA_DIR":
            return Path(value)
    return Path(".sierra")


def world_runner(data_dir: Path) -> tuple[str, str] | None:
    """(runner address, the world's Prefect API URL) when the world of `data_dir` runs with a runner."""
    state = WorldState(data_dir)
    address = api = None
    for service in state.records():
        if service.name == RUNNER and SOCKET_URL_KEY in service.urls and state.is_running(service):
            address = service.urls[SOCKET_URL_KEY]
        elif service.name == "prefect" and "prefect_api" in service.urls and state.is_running(service):
            api = service.urls["prefect_api"]
    if address is None or api is None:
        return None
    return address, api


def _connect(address: str, timeout: float) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(_sockaddr(address))
    except OSError:
        sock.close()
        raise
    sock.settimeout(None)
    return sock


def ping(address: str, timeout: float = 2.0) -> bool:
    """Whether a runner answers at `address` (one fork of it says so)."""
    try:
        with _connect(address, timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(_frame({"ping": True}))
            answer = _Reader(sock).message()
    except (OSError, ValueError, ConnectionError):
        return False
    return bool(answer and answer.get("pong"))


def _std_fds() -> tuple[list[int], list[int]]:
    """The caller's stdin, stdout, stderr (/dev/null in place of a closed one); the fds opened here."""
    fds, opened = [], []
    for fd, mode in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY)):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:
            null = os.open(os.devnull, mode)
            opened.append(null)
            fds.append(null)
    return fds, opened


def delegate(address: str, argv: list[str]) -> int | None:
    """Run `sierra-sync <argv>` in a fork of the runner at `address`, on this process's stdin, stdout,
    stderr, environment and working directory; returns its exit status, or None when the runner cannot
    be reached (the caller then runs the command itself). SIGINT and SIGTERM are passed on to the run."""
    try:
        sock = _connect(address, timeout=2.0)
    except OSError:
        return None
    forwarded: list[int] = []
    previous: dict[int, Any] = {}

    def forward(signum: int, _frame_: FrameType | None) -> None:
        forwarded.append(signum)
        with contextlib.suppress(OSError):
            sock.sendall(_frame({"signal": signum}))

    with sock:
        fds, opened = _std_fds()
        try:
            request = _frame({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)})
            sent = socket.send_fds(sock, [request[:65536]], fds)
            sock.sendall(request[sent:])
        except OSError:
            return None
        finally:
            for fd in opened:
                os.close(fd)
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, forward)
        reader = _Reader(sock)
        try:
            while True:
                try:
                    message = reader.message()
                except (OSError, ConnectionError, ValueError):
                    message = None
                if message is None:  # the fork ended without a status: it died (of our signal?)
                    if forwarded:
                        return 128 + forwarded[-1]
                    print("error: the local world's runner stopped before the run ended", file=sys.stderr)
                    return 1
                if "exit" in message:
                    return int(message["exit"])
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)


# --- the runner's side ---------------------------------------------------------------------------------


def preload() -> list[str]:
    """Import what a run needs (Prefect, every flow, the command line's `run`); returns the flows that
    failed to import (they fail again, with their error, when run)."""
    import prefect  # noqa: F401

    import sierra_sync.cli.main
    import sierra_sync.cli.run  # noqa: F401
    from flows import registry

    broken = []
    for name in registry.names():
        try:
            registry.load(name)
        except Exception:
            broken.append(name)
    _import_quietly(WARM_MODULES)
    return broken


# What a flow run imports on its way (Prefect's engines load lazily); the runner also learns the modules
# its runs imported (`<world>/runner.modules`) and imports them between requests, so every later fork has
# them already.
WARM_MODULES = (
    "sqlite3",
    "prefect.engine",
    "prefect.flow_engine",
    "prefect.task_engine",
    "prefect.concurrency.context",
    "prefect.concurrency.services",
    "prefect.concurrency.v1.context",
    "prefect.telemetry.run_telemetry",
    "prefect.utilities.visualization",
    "pydantic.color",
    "fastapi",
    "graphviz",
)


def _import_quietly(names: Iterable[str]) -> None:
    for name in names:
        if name and name not in sys.modules:
            with contextlib.suppress(Exception):
                importlib.import_module(name)


class _Learned:
    """The modules runs imported that the runner has not: recorded by each fork, imported by the runner."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.seen = 0.0

    def record(self, preloaded: set[str]) -> None:
        new = sorted(name for name in set(sys.modules) - preloaded if not name.startswith("__"))
        if new and self.path is not None:
            with contextlib.suppress(OSError), self.path.open("a") as out:
                out.write("".join(f"{name}\n" for name in new))

    def import_new(self) -> None:
        if self.path is None:
            return
        try:
            changed = self.path.stat().st_mtime
        except OSError:
            return
        if changed == self.seen:
            return
        self.seen = changed
        with contextlib.suppress(OSError):
            _import_quietly(line.strip() for line in self.path.read_text().splitlines())
        if threading.active_count() > 1:  # an import started a thread: forks would copy it half-done
            print(f"runner: warning: {threading.active_count() - 1} threads after imports", flush=True)


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def _exit_code(err: SystemExit) -> int:
    code = err.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _take_over_std(fds: list[int]) -> None:
    """Make the caller's stdin/stdout/stderr this process's 0/1/2, with streams set up as Python sets
    them for such files (line-buffered on a terminal)."""
    for target, fd in enumerate(fds[:3]):
        os.dup2(fd, target)
        os.close(fd)
    encoding = sys.stdout.encoding or "utf-8"
    sys.stdin = open(0, encoding=encoding, closefd=False)  # noqa: SIM115 - process-wide streams
    sys.stdout = open(1, "w", encoding=encoding, buffering=1 if os.isatty(1) else -1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding=encoding, buffering=1, errors="backslashreplace", closefd=False)  # noqa: SIM115


def _release_std(log: int) -> None:
    """Let go of the caller's descriptors (its pipes see end-of-file once the caller exits), keeping
    whatever this process still writes (Prefect draining its queues) in the runner's log."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    for target in (1, 2):
        os.dup2(log if log >= 0 else null, target)
    os.close(null)


def _watch_caller(reader: _Reader, done: threading.Event) -> None:
    """Raise the signals the caller forwards on this process; SIGTERM when the caller is gone."""
    while not done.is_set():
        try:
            message = reader.message()
        except (OSError, ConnectionError, ValueError):
            message = None
        if done.is_set():
            return
        if message is None:
            os.kill(os.getpid(), signal.SIGTERM)
            return
        signum = message.get("signal")
        if signum in (signal.SIGINT, signal.SIGTERM):
            _raise_until_done(int(signum), done)


SIGNAL_REPEATS = 3
SIGNAL_REPEAT_AFTER_S = 15.0  # longer than handling an interrupt takes (the run marked crashed)


def _raise_until_done(signum: int, done: threading.Event) -> None:
    """Raise `signum` on this process, again every few seconds while the run goes on: Python delivers a
    signal's KeyboardInterrupt wherever the main thread is, and one that lands in a weakref callback or a
    __del__ is printed as "Exception ignored" and lost (seen under load), which would leave the run going."""
    for _ in range(SIGNAL_REPEATS):
        os.kill(os.getpid(), signum)
        if done.wait(SIGNAL_REPEAT_AFTER_S):
            return


def _serve_one(conn: socket.socket, log_fd: int) -> int:
    """In the fork: one request, start to end; returns the exit status."""
    conn.settimeout(10.0)
    first, fds, _flags, _addr = socket.recv_fds(conn, 65536, 3)
    conn.settimeout(None)
    try:
        if _peer_uid(conn) != os.getuid():
            return 1
        reader = _Reader(conn, first)
        request = reader.message()
        if request is None:
            return 1
        if request.get("ping"):
            conn.sendall(_frame({"pong": os.getpid()}))
            return 0
        if len(fds) != 3:
            conn.sendall(_frame({"exit": 1, "error": "no stdin/stdout/stderr received"}))
            return 1
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    argv = [str(a) for a in request["argv"]]
    env = {str(k): str(v) for k, v in dict(request["env"]).items()}
    mark = os.environ.get(MARK_ENV)
    os.environ.clear()
    os.environ.update(env)
    if mark is not None:
        os.environ[MARK_ENV] = mark  # `down` finds (and stops) the runs in progress too
    sys.argv = ["sierra-sync", *argv]
    _take_over_std(fds)
    done = threading.Event()
    code = 1
    try:
        os.chdir(str(request["cwd"]))
        from prefect.context import refresh_global_settings_context

        from sierra_core.settings import get_settings

        get_settings.cache_clear()
        refresh_global_settings_context()
        threading.Thread(target=_watch_caller, args=(reader, done), daemon=True, name="runner-caller").start()
        from sierra_sync.cli.main import main

        try:
            main(argv)
            code = 0
        except SystemExit as err:
            code = _exit_code(err)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except BaseException as err:  # a crash outside main's own handling: one line, as main prints errors
        from sierra_core.redact import redact_text

        said = str(err).splitlines()[0] if str(err) else ""
        print(f"error: {type(err).__name__}: {redact_text(said)}", file=sys.stderr)  # no secret reaches it
        code = 143 if type(err).__name__ == "TerminationSignal" else 1
    finally:
        done.set()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(OSError):
            conn.sendall(_frame({"exit": code}))
        _release_std(log_fd)
    return code


class _Stop:
    def __init__(self) -> None:
        self.requested = False

    def __call__(self, _signum: int, _frame_: FrameType | None) -> None:
        self.requested = True


def serve(address: str, *, modules: Path | None = None, grace: float = 10.0) -> int:
    """Preload, listen on `address`, fork a process per connection; SIGTERM/SIGINT: stop accepting, let
    the runs in progress end (they get the signal too when `down` signals the process group), exit 0."""
    broken = preload()
    learned = _Learned(modules)
    learned.import_new()
    if broken:
        print(f"runner: flows that do not import: {', '.join(broken)}", flush=True)
    stop = _Stop()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sockaddr = _sockaddr(address)
    if not sockaddr.startswith("\0"):
        Path(sockaddr).unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)
    try:
        listener.bind(sockaddr)
    finally:
        os.umask(old_mask)
    listener.listen(64)
    parent = os.getpid()
    children: set[int] = set()
    log_fd = os.dup(1)
    print(f"runner: listening on {address} (pid {parent})", flush=True)
    try:
        while not stop.requested:
            if _reap(children):
                learned.import_new()  # between requests: a fork never copies a half-done import
            try:
                ready, _, _ = select.select([listener], [], [], 0.5)
            except InterruptedError:
                continue
            if not ready:
                continue
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:  # the fork: serve, then leave through the interpreter's normal exit (atexit drains)
                listener.close()
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                preloaded = set(sys.modules)
                try:
                    code = _serve_one(conn, log_fd)
                except BaseException:
                    code = 1
                learned.record(preloaded)
                raise SystemExit(code)
            conn.close()
            children.add(pid)
    finally:
        if os.getpid() == parent:
            listener.close()
            if not sockaddr.startswith("\0"):
                Path(sockaddr).unlink(missing_ok=True)
            deadline = time.monotonic() + grace
            while children and time.monotonic() < deadline:
                _reap(children)
                time.sleep(0.1)
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            _reap(children)
            print("runner: stopped", flush=True)
    return 0


def _reap(children: set[int]) -> int:
    """Reap the forks that ended; returns how many."""
    reaped = 0
    for pid in list(children):
        with contextlib.suppress(ChildProcessError):
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done == 0:
                continue
        children.discard(pid)
        reaped += 1
    return reaped


def _main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="The local world's runner of `sierra-sync run`.")
    parser.add_argument("--address", required=True, help="unix:<path> or unix:@<abstract name>")
    parser.add_argument("--modules", type=Path, help="file of the modules runs imported (learned)")
    args = parser.parse_args()
    sys.exit(serve(args.address, modules=args.modules))


if __name__ == "__main__":
    _main()
