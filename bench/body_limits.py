"""Memory of a real `sierra-sync api serve` / `webhooks serve` process under oversized request bodies.

python -m bench.body_limits                  # 100 MB API bodies, 200 MB chunked webhook body
python -m bench.body_limits --api-mb 100 --webhook-mb 200

Each case starts a fresh server process (SQLite in a temporary directory, a temporary Prefect server holding
the Stripe webhook secret block), sends its body over a raw socket in 1 MiB pieces, stops sending as soon as
the server answers, and reads the process's peak RSS (VmHWM, reset just before the case through
/proc/<pid>/clear_refs) against its RSS before. Prints, per case: the answer, how much of the body was sent
before it, and the peak growth of the server's RSS.
"""

from __future__ import annotations

import argparse
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from connectors.apikeys import create_key, parse_permissions
from sierra_core.db import migrate
from sierra_core.db.engine import make_engine, session_factory
from sierra_core.db.models import Company
from sierra_sync.demo.prefect_server import free_port

MIB = 1 << 20
WEBHOOK_SECRET = "whsec_bench_body_limits_0001"  # noqa: S105 - a made-up secret for this run


@dataclass(frozen=True)
class Case:
    label: str
    command: str  # api | webhooks
    path: str
    headers: dict[str, str]
    megabytes: int
    chunked: bool
    clients: int = 1


@dataclass(frozen=True)
class Outcome:
    statuses: list[str]
    sent_mb: list[float]
    rss_before_mb: float
    peak_growth_mb: float


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


class Peak:
    """The process's peak RSS from now on: VmHWM after resetting it (clear_refs), or by sampling."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = _status_kb(pid, "VmRSS")
        self.sampled = self.before
        self._stop = threading.Event()
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            self.hwm = True
        except OSError:
            self.hwm = False
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.sampled = max(self.sampled, _status_kb(self.pid, "VmRSS"))

    def growth_kb(self) -> int:
        self._stop.set()
        self._thread.join()
        peak = _status_kb(self.pid, "VmHWM") if self.hwm else self.sampled
        return max(peak, self.sampled) - self.before


def _send(port: int, case: Case, body_piece: bytes) -> tuple[str, float]:
    """POST `case.megabytes` MiB; stops sending when the server answers (or closes). (status, MiB sent)."""
    head = [f"POST {case.path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json"]
    head += [f"{k}: {v}" for k, v in case.headers.items()]
    head.append("Transfer-Encoding: chunked" if case.chunked else f"Content-Length: {case.megabytes * MIB}")
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    sent = 0
    try:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        frame = f"{len(body_piece):x}\r\n".encode() + body_piece + b"\r\n" if case.chunked else body_piece
        for _ in range(case.megabytes):
            if select.select([sock], [], [], 0)[0]:
                break  # answered before the whole body was sent
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(body_piece)
        else:
            if case.chunked:
                sock.sendall(b"0\r\n\r\n")
        try:
            answer = sock.recv(4096).decode("latin-1")
        except (ConnectionResetError, TimeoutError):
            answer = ""
    finally:
        sock.close()
    status = answer.split("\r\n", 1)[0].split(" ", 2)[1] if answer.startswith("HTTP/") else "closed"
    return status, sent / MIB


@contextmanager
def _server(command: str, env: dict[str, str]) -> Iterator[tuple[int, int]]:
    port = free_port("127.0.0.1")
    args = [
        sys.executable,
        "-m",
        "sierra_sync",
        command,
        "serve",
        "--port",
        str(port),
        "--dispatch",
        "in-process",
    ]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"`sierra-sync {command} serve` exited ({proc.returncode})")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"`sierra-sync {command} serve` did not start")
            time.sleep(0.3)
        yield proc.pid, port
    finally:
        proc.terminate()
        proc.wait(30)


def _run(case: Case, env: dict[str, str]) -> Outcome:
    piece = b"[" + b"1," * (MIB // 2 - 1) + b"1]" if not case.path.startswith("/webhooks") else b" " * MIB
    with _server(case.command, env) as (pid, port):
        time.sleep(1.0)  # let start-up settle
        peak = Peak(pid)
        results: list[tuple[str, float]] = []
        threads = [
            threading.Thread(target=lambda: results.append(_send(port, case, piece)))
            for _ in range(case.clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        growth = peak.growth_kb()
        return Outcome([s for s, _ in results], [m for _, m in results], peak.before / 1024, growth / 1024)


def _setup(tmp: str) -> tuple[str, str]:
    """A migrated SQLite database with one company and one API key; returns (url, key)."""
    url = f"sqlite:///{tmp}/bench.db"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with session_factory(engine).begin() as s:
        company = Company(name="Bench Builders")
        s.add(company)
        s.flush()
        key = create_key(s, company.id, "bench", parse_permissions("projects:rw")).raw
    engine.dispose()
    return url, key


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api-mb", type=int, default=100, help="MiB per API body")
    parser.add_argument("--webhook-mb", type=int, default=200, help="MiB of the chunked webhook body")
    args = parser.parse_args()

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no telemetry from the harness
    from prefect.testing.utilities import prefect_test_harness

    from blocks.stripe import STRIPE_API_BASE, save_stripe_settings

    with tempfile.TemporaryDirectory() as tmp, prefect_test_harness(server_startup_timeout=120):
        from prefect.settings import PREFECT_API_URL

        save_stripe_settings(secret_key=None, webhook_secret=WEBHOOK_SECRET, api_base=STRIPE_API_BASE)
        url, key = _setup(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SIERRA_")}
        env.update(SIERRA_DATABASE_URL=url, PREFECT_API_URL=str(PREFECT_API_URL.value()))
        bearer = {"Authorization": f"Bearer {key}"}
        signature = {"Stripe-Signature": "t=1,v1=" + "0" * 64}
        mb, wmb = args.api_mb, args.webhook_mb
        cases = [
            Case(f"API POST /api/v1/projects, {mb} MB, no key", "api", "/api/v1/projects", {}, mb, False),
            Case("same, 3 clients at once", "api", "/api/v1/projects", {}, mb, False, clients=3),
            Case(f"API, {mb} MB chunked, no key", "api", "/api/v1/projects", {}, mb, True),
            Case(f"API, {mb} MB chunked, a valid key", "api", "/api/v1/projects", bearer, mb, True),
            Case(
                f"webhooks POST /webhooks/stripe, {wmb} MB chunked",
                "webhooks",
                "/webhooks/stripe",
                signature,
                wmb,
                True,
            ),
        ]
        report: Callable[[str], None] = print
        report(f"{'case':<48} {'answer':<16} {'sent MiB':>9} {'RSS before':>11} {'peak growth':>12}")
        for case in cases:
            out = _run(case, env)
            report(
                f"{case.label:<48} {','.join(out.statuses):<16} {max(out.sent_mb):>9.0f} "
                f"{out.rss_before_mb:>8.0f} MB {out.peak_growth_mb:>+9.1f} MB"
            )


if __name__ == "__main__":
    main()
