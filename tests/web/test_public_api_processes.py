"""Two API processes share one key's limit: exactly `limit` requests succeed, whichever process gets them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from connectors.apikeys import create_key, parse_permissions
from tests import factories

LIMIT = 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "API process exited"
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail("API process did not start")


@pytest.mark.slow
def test_limit_is_reached_exactly_across_two_processes(db, sessions) -> None:
    with sessions.begin() as s:
        company = factories.company(s)
        key = create_key(
            s,
            company.id,
            "shared",
            parse_permissions("projects:r"),
            rate_limit_per_hour=LIMIT,
            rate_limit_per_day=10_000,
        ).raw
    ports = [_free_port(), _free_port()]
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    procs = [
        subprocess.Popen([sys.executable, "-m", "tests.web.serve_api", db.url, str(p)], env=env)
        for p in ports
    ]
    try:
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        for url, proc in zip(urls, procs, strict=True):
            _wait_up(url, proc)
        headers = {"Authorization": f"Bearer {key}"}

        def hit(i: int) -> int:
            return httpx.get(f"{urls[i % 2]}/api/v1/projects", headers=headers, timeout=30).status_code

        with ThreadPoolExecutor(16) as pool:
            codes = list(pool.map(hit, range(LIMIT + 20)))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:  # killed and waited for: no server outlives the test
                proc.kill()
                proc.wait()
    assert codes.count(200) == LIMIT
    assert codes.count(429) == 20
