"""`sierra-sync api serve --workers 2` as data ops run it: two API processes on one port share the key's rate
count, and after a stop (SIGTERM) every request either worker answered is in the request log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import func, select

from connectors.apikeys import create_key, parse_permissions
from sierra_core.db.models import ApiRequestLog
from sierra_sync.demo.prefect_server import free_port
from tests import factories
from tests.processes import MARK, finish, left_behind

CLI = [sys.executable, "-m", "sierra_sync"]
REQUESTS = 40


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def test_two_workers_share_the_rate_count_and_flush_the_log_on_stop(db, sessions, prefect_api) -> None:
    with sessions.begin() as s:
        company = factories.company(s, "Served Builders")
        key = create_key(
            s, company.id, "ops", parse_permissions("projects:r"), rate_limit_per_hour=REQUESTS
        ).raw
    port = free_port("127.0.0.1")
    mark = uuid.uuid4().hex  # in the environment of every process it starts
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIERRA_")}
    env.update(SIERRA_DATABASE_URL=db.url, PREFECT_API_URL=prefect_api, **{MARK: mark})
    args = ["api", "serve", "--workers", "2", "--port", str(port), "--dispatch", "in-process"]
    proc = subprocess.Popen(
        [*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "api serve did not start"
            time.sleep(0.3)
        assert len(_children(proc.pid)) >= 2  # uvicorn's supervisor and its worker processes
        remaining = []
        headers = {"Authorization": f"Bearer {key}"}
        for _ in range(REQUESTS):  # a new connection each time: the kernel spreads them over the workers
            r = httpx.get(f"{base}/api/v1/projects", headers=headers, timeout=10)
            assert r.status_code == 200
            remaining.append(int(r.headers["X-RateLimit-Remaining"]))
        assert remaining == list(range(REQUESTS - 1, -1, -1))  # one count, whichever process answered
        limited = httpx.get(f"{base}/api/v1/projects", headers=headers, timeout=10)
        assert limited.status_code == 429
    finally:
        out = finish(proc, within=60)
    assert proc.returncode == 0, out
    assert "Traceback" not in out and " ERROR " not in out, out
    assert "never awaited" not in out, out  # workers read the blocks (not coroutines of them) at start-up
    assert left_behind(mark) == {}  # no worker (nor anything a worker started) outlives the stop
    with sessions() as s:  # written by the workers' batches, the last ones at shutdown
        assert s.scalar(select(func.count()).select_from(ApiRequestLog)) == REQUESTS + 1
        assert s.scalar(select(func.count()).where(ApiRequestLog.rate_limit_exceeded.is_(True))) == 1
