"""The production shape on one machine, for bench.scale: PostgreSQL databases of their own, a Prefect server
on PostgreSQL, a process work pool, the deployments of prefect.yaml and N workers (each in its own process
group, so a "machine crash" can be simulated with SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BIN = Path(sys.executable).parent
TERMINATE = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
)
TERMINATE = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
)


def recreate_database(name: str, extensions: tuple[str, ...] = ()) -> str:
    """Drop and create database `name` on the local server; returns its psycopg URL."""
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text(TERMINATE),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    if extensions:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for ext in extensions:
                conn.execute(text(f"CREATE EXTENSION IF NOT EXISTS {ext}"))
        engine.dispose()
    return url


def drop_database(name: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text(TERMINATE),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@dataclass
class Cluster:
    """A Prefect server and its workers, started as subprocesses with a shared environment."""

    home: Path
    prefect_db: str
    port: int
    env: dict[str, str] = field(default_factory=dict)
    server: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start_server(self, timeout: float = 120) -> None:
        self.env.update(
            PREFECT_HOME=str(self.home / "prefect"),
            PREFECT_API_URL=self.api_url,
            PREFECT_SERVER_DATABASE_CONNECTION_URL=self.prefect_db.replace("+psycopg", "+asyncpg"),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            DO_NOT_TRACK="1",
            PREFECT_UI_ENABLED="false",
            PREFECT_LOGGING_LEVEL="WARNING",
            PREFECT_WORKER_QUERY_SECONDS="2",  # default 15 s: a run would wait that long for a worker
        )
        log = open(self.home / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
        self.server = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.server.poll() is not None:
                raise RuntimeError(f"the Prefect server exited; see {self.home / 'server.log'}")
            time.sleep(0.5)
        raise RuntimeError("the Prefect server did not become healthy in time")

    def prefect(self, *args: str) -> None:
        subprocess.run([str(BIN / "prefect"), *args], env=self.env, cwd=ROOT, check=True, capture_output=True)

    def deploy(self, pool: str = "sierra-process") -> None:
        self.prefect("work-pool", "create", pool, "--type", "process", "--overwrite")
        self.prefect("--no-prompt", "deploy", "--all")

    def start_workers(self, count: int, limit: int, pool: str = "sierra-process") -> None:
        for i in range(count):
            log = open(self.home / f"worker-{i}.log", "wb")  # noqa: SIM115 - lives as long as the worker
            self.workers.append(
                subprocess.Popen(
                    [
                        str(BIN / "prefect"),
                        "worker",
                        "start",
                        "--pool",
                        pool,
                        "--name",
                        f"bench-worker-{i}",
                        "--limit",
                        str(limit),
                    ],
                    env=self.env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    def kill_worker(self, index: int) -> None:
        """A machine crash: SIGKILL the worker and every flow run it started (its process group)."""
        os.killpg(self.workers[index].pid, signal.SIGKILL)
        self.workers[index].wait(timeout=30)

    def stop(self) -> None:
        for proc in [*self.workers, *([self.server] if self.server else [])]:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=20)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    os.killpg(proc.pid, signal.SIGKILL)
