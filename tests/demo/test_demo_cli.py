"""`sierra-sync demo --json` end to end, as CI runs it: its own Prefect server, both sandboxes, 2 companies x
150 invoices, faults injected; every invoice and payment in QuickBooks exactly once, to the cent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sierra_sync.demo.prefect_server import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_demo_json_is_exact_and_quiet(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIERRA_", "PREFECT_"))}
    env["SIERRA_DATA_DIR"] = str(tmp_path / ".sierra")
    cli = Path(sys.executable).with_name("sierra-sync")
    done = subprocess.run(
        # 150 invoices a company keeps the suite under 10 minutes: every step still runs (own Prefect server,
        # OAuth, faults, webhooks, reconcile); `make demo` runs the full 2 x 500 (BENCHMARKS.md).
        [str(cli), "demo", "--json", "--invoices", "150", "--prefect-port", str(free_port("127.0.0.1"))],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=380,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    figures = json.loads(done.stdout)
    assert figures["accuracy_pct"] == 100.0, figures["mismatches"]
    assert figures["duplicates_in_qbo"] == 0
    assert figures["failed"] == 0
    assert figures["invoices_checked"] == figures["invoices_synced"] > 240
    assert figures["payments_synced"] >= figures["payments_checked"] > 100
    assert figures["duration_s"] > 0
    # Progress went to stderr, with no traceback and no ERROR line on a successful run.
    assert "Full sync" in done.stderr
    assert "Traceback" not in done.stderr
    assert "ERROR" not in done.stderr
    # The demo's Prefect server is gone, and it kept its state under the data directory.
    assert (tmp_path / ".sierra" / "prefect" / "prefect.db").exists()
    assert not (tmp_path / ".sierra" / "prefect" / "server.json").exists()
