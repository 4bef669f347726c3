"""A local Prefect server of the demo's own: `prefect server start` as a subprocess, SQLite and logs under
<data dir>/prefect, health-checked before use; reused when a previous `--keep-server` left it running."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from sierra_core.errors import SierraError
from sierra_core.shutdown import terminate
from sierra_sync.world.ports import free_port, port_free

STATE_FILE = "server.json"
# The servers this process launched, by pid: a server kept running (`--keep-server`) outlives its
# PrefectServer without a "subprocess ... is still running" warning, and is reaped when this process stops it.
_LAUNCHED: dict[int, subprocess.Popen[bytes]] = {}


def healthy(api_url: str, timeout: float = 1.0) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _prefect_executable() -> str:
    beside = Path(sys.executable).with_name("prefect")
    if beside.exists():
        return str(beside)
    found = shutil.which("prefect")
    if found is None:
        raise SierraError("the `prefect` command is not installed in this environment; run `make install`")
    return found


@dataclass
class PrefectServer:
    """The demo's Prefect server. `start()` returns its API URL; `stop()` ends it unless it was reused."""

    home: Path
    host: str = "127.0.0.1"
    port: int = 4200
    pid: int | None = None
    reused: bool = False
    process: subprocess.Popen[bytes] | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.home / "server.log"

    def _state(self) -> dict[str, int] | None:
        try:
            data = json.loads((self.home / STATE_FILE).read_text())
            return {"pid": int(data["pid"]), "port": int(data["port"])}
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def try_reuse(self) -> bool:
        """True when a server this data directory started earlier is still up and healthy."""
        state = self._state()
        if state is None or not _alive(state["pid"]):
            return False
        self.port, self.pid = state["port"], state["pid"]
        if healthy(self.api_url):
            self.reused = True
            return True
        return False

    def launch(self) -> None:
        """Start `prefect server start` in the background (its own session: Ctrl-C here never reaches it)."""
        self.home.mkdir(parents=True, exist_ok=True)
        if self.port == 0 or not port_free(self.host, self.port):  # 0: any free port
            self.port = free_port(self.host)
        env = {
            **os.environ,
            "PREFECT_HOME": str(self.home),
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{self.home / 'prefect.db'}",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_UI_ENABLED": "true",
        }
        env.pop("PREFECT_API_URL", None)
        env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own executable, fixed arguments
                [_prefect_executable(), "server", "start", "--host", self.host, "--port", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.home,
                start_new_session=True,
            )
        self.pid = self.process.pid
        _LAUNCHED[self.pid] = self.process
        (self.home / STATE_FILE).write_text(json.dumps({"pid": self.pid, "port": self.port}))

    def wait_healthy(self, timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if healthy(self.api_url):
                return self.api_url
            if self.process is not None and self.process.poll() is not None:
                raise SierraError(
                    f"the Prefect server stopped while starting (exit {self.process.returncode}); "
                    f"see {self.log_file}"
                )
            time.sleep(0.2)
        raise SierraError(f"the Prefect server did not answer within {timeout:.0f} s; see {self.log_file}")

    def stop(self, timeout: float = 15.0) -> None:
        """End the server (its process group: the server and any child of it); quietly nothing when it is
        already gone."""
        pid, self.pid = self.pid, None
        if pid is None:
            return
        launched = _LAUNCHED.pop(pid, None)
        process = self.process if self.process is not None and self.process.pid == pid else launched
        terminate(process if process is not None else pid, group=True, grace=timeout)
        (self.home / STATE_FILE).unlink(missing_ok=True)


__all__ = ["PrefectServer", "free_port", "healthy", "port_free"]
