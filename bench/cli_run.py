"""How long `sierra-sync run FLOW` takes when the flow has nothing to do (issue 19: under 3 s while the
local world runs), three ways, each a fresh `sierra-sync` process as a person starts it:

- world: the local world is up (`sierra-sync up`): the command hands the run to the world's runner (a fork
  of a process that has Prefect and the flows imported); the command itself never imports Prefect;
- in-process: the world is up, but the command runs the flow itself (SIERRA_RUN_IN_PROCESS=1: what every
  `run` did before the runner): it imports Prefect and the flows, then uses the world's Prefect server;
- no world: no world, the command starts Prefect's temporary server (the behaviour without `up`).

The world runs in a temporary data directory on free ports (an empty app database: the retry sweep finds
nothing due); it is stopped at the end. Each run must exit 0 and, on the world's server, be a completed
flow run of that flow.

python -m bench.cli_run                               # 7 runs each (3 without the world), retry-failed-syncs
python -m bench.cli_run --runs 15 --flow deliver-webhooks
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

CLI = [sys.executable, "-m", "sierra_sync"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(argv: list[str], env: dict[str, str], *, fail: bool = True) -> float | None:
    """Wall time of the command; when it fails, SystemExit (or, with fail=False, None and its last line)."""
    began = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        if fail:
            raise SystemExit(f"{' '.join(argv[2:])} exited {done.returncode}: {done.stderr[-2000:]}")
        last = done.stderr.strip().splitlines()[-2:] or [""]
        print(f"  (a run without the world failed after {seconds:.1f} s: {last[0][:160]})", flush=True)
        return None
    return seconds


def ok(seconds: float | None) -> float:
    assert seconds is not None
    return seconds


def describe(name: str, values: list[float], baseline: float | None = None) -> str:
    median = statistics.median(values)
    ratio = f"; {baseline / median:.1f}x faster than in-process" if baseline else ""
    return (
        f"{name:<11} {len(values):>2} runs: median {median:.2f} s, p95 {percentile(values, 0.95):.2f} s, "
        f"min {min(values):.2f} s, max {max(values):.2f} s{ratio}"
    )


def main() -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    parser.add_argument("--runs", type=int, default=7, help="runs with the world up (each way)")
    parser.add_argument("--cold-runs", type=int, default=3, help="runs without the world")
    parser.add_argument("--flow", default="retry-failed-syncs", help="a flow with nothing to do")
    args = parser.parse_args()
    run = [*CLI, "run", args.flow]

    with tempfile.TemporaryDirectory(prefix="bench-cli-run-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SIERRA_", "PREFECT_"))}
        env["SIERRA_DATA_DIR"] = str(Path(tmp) / ".sierra")
        ports = ["--prefect-port", "0", "--qbo-port", "0", "--stripe-port", "0", "--api-port", "0"]
        up = subprocess.run(
            [*CLI, "up", *ports, "--xero-port", "0", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if up.returncode != 0:
            raise SystemExit(f"sierra-sync up failed: {up.stderr[-3000:]}")
        try:
            api = json.loads(up.stdout)["prefect_api"]
            timed(run, env)  # the first run of a fresh server creates the flow (untimed for all ways)
            world: list[float] = []
            in_process: list[float] = []
            for _ in range(args.runs):  # interleaved: both ways see the same load
                world.append(ok(timed(run, env)))
                in_process.append(ok(timed(run, {**env, "SIERRA_RUN_IN_PROCESS": "1"})))
            found = httpx.post(
                f"{api}/flow_runs/filter",
                json={"flows": {"name": {"any_": [args.flow]}}},
                timeout=30,
            ).json()
            completed = sum(1 for r in found if r["state_type"] == "COMPLETED")
            if completed < 1 + 2 * args.runs:
                raise SystemExit(f"expected {1 + 2 * args.runs} completed flow runs, found {completed}")
        finally:
            subprocess.run([*CLI, "down"], env=env, capture_output=True, timeout=300, check=False)
        baseline = statistics.median(in_process)
        print(f"sierra-sync run {args.flow} (nothing to do), wall time of the whole command:")
        print(describe("world", world, baseline))
        print(describe("in-process", in_process))
        print(f"completed flow runs on the world's Prefect server: {completed}", flush=True)
        cold_env = {
            **env,
            "PREFECT_HOME": str(Path(tmp) / "prefect-home"),  # its temporary server's files
            # Prefect's default (20 s) is not always enough under load (issue 19's "Timed out ..."):
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        }
        timings = [timed(run, cold_env, fail=False) for _ in range(args.cold_runs)]
        cold = [t for t in timings if t is not None]
    if cold:
        print(describe("no world", cold))


if __name__ == "__main__":
    main()
