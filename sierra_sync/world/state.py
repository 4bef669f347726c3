"""What runs of the local world, read from the files under <data dir>/world/: one `<service>.json` per
process (pid, URLs, log file). Stdlib only: every command reads it on start-up (`prefect_api_url`).

A record is trusted only while its process lives and carries the world's mark in its environment
(`SIERRA_WORLD=<world dir>`, inherited by every process it starts): a pid file left by a crash, or whose pid
was since given to another process, is stale and removed."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

MARK_ENV = "SIERRA_WORLD"
WORLD_DIR = "world"


@dataclass
class Service:
    """One detached process of the world."""

    name: str
    pid: int
    urls: dict[str, str] = field(default_factory=dict)
    log: str = ""
    order: int = 0  # start order: `down` stops the last started first


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (and is no zombie)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def carries_mark(pid: int, mark: str) -> bool:
    """Whether the process's environment holds SIERRA_WORLD=mark (False when it cannot be read)."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"{MARK_ENV}={mark}".encode() in environ.split(b"\0")


def marked_pids(mark: str) -> set[int]:
    """Every live process whose environment carries the mark: the services and all they started."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and carries_mark(int(entry.name), mark) and pid_alive(int(entry.name)):
            found.add(int(entry.name))
    return found


class WorldState:
    """The pid/port files of the world kept under `data_dir`/world/."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir.resolve() / WORLD_DIR

    @property
    def mark(self) -> str:
        return str(self.dir)

    @property
    def logs(self) -> Path:
        return self.dir / "logs"

    def _file(self, name: str) -> Path:
        return self.dir / f"{name}.json"

    def save(self, service: Service) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        temporary = self.dir / f".{service.name}.json.tmp"
        temporary.write_text(json.dumps(asdict(service), indent=2))
        os.replace(temporary, self._file(service.name))

    def forget(self, name: str) -> None:
        self._file(name).unlink(missing_ok=True)

    def records(self) -> list[Service]:
        """Every readable record, in start order (an unreadable file counts as stale and goes)."""
        found: list[Service] = []
        if not self.dir.is_dir():
            return found
        for path in self.dir.glob("*.json"):
            try:
                data = json.loads(path.read_text())
                found.append(
                    Service(
                        name=str(data["name"]),
                        pid=int(data["pid"]),
                        urls={str(k): str(v) for k, v in dict(data.get("urls") or {}).items()},
                        log=str(data.get("log", "")),
                        order=int(data.get("order", 0)),
                    )
                )
            except (OSError, ValueError, KeyError, TypeError):
                path.unlink(missing_ok=True)
        return sorted(found, key=lambda s: s.order)

    def is_running(self, service: Service) -> bool:
        return pid_alive(service.pid) and carries_mark(service.pid, self.mark)

    def running(self) -> list[Service]:
        return [s for s in self.records() if self.is_running(s)]

    def clear_stale(self) -> list[str]:
        """Remove the records whose process is gone (or is another process now); returns their names."""
        stale = [s.name for s in self.records() if not self.is_running(s)]
        for name in stale:
            self.forget(name)
        return stale


def prefect_api_url(data_dir: Path) -> str | None:
    """The API URL of the world's Prefect server when it runs, else None."""
    state = WorldState(data_dir)
    for service in state.records():
        if service.name == "prefect" and "prefect_api" in service.urls and state.is_running(service):
            return service.urls["prefect_api"]
    return None


__all__ = ["MARK_ENV", "Service", "WorldState", "carries_mark", "marked_pids", "pid_alive", "prefect_api_url"]
