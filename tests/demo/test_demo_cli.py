"""`sierra-sync demo --json` end to end, as CI runs it: its own Prefect server, the sandboxes, 2 companies x
150 invoices on QuickBooks and 1 x 150 on Xero, faults injected in both; every invoice and payment in its
company's books exactly once, to the cent."""

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
        # OAuth, faults, webhooks, reconcile); `make demo` runs the full 2 x 500 and 1 x 150 on Xero.
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
    assert figures["duplicates"] == figures["duplicates_in_qbo"] == 0
    assert figures["failed"] == 0
    assert figures["invoices_checked"] == figures["invoices_synced"] > 360
    assert figures["payments_synced"] >= figures["payments_checked"] > 150
    # Every company, whichever its books, at 100 % with no duplicate; the Xero one within Xero's
    # 60 calls a minute, and the faults reached both accounting systems.
    books = {b["system"]: b for b in figures["books"]}
    assert [b["system"] for b in figures["books"]].count("QuickBooks") == 2
    assert books["Xero"]["invoices_checked"] > 100 and books["Xero"]["payments_checked"] > 40
    assert all(b["accuracy_pct"] == 100.0 and b["duplicates"] == 0 for b in figures["books"]), figures[
        "books"
    ]
    assert figures["reconcile"]["companies"] and len(figures["reconcile"]["companies"]) == 3
    assert figures["requests"]["Xero"] > 0
    assert all(f["faults_injected"] + f["throttled"] > 0 for f in figures["faults_injected"].values())
    assert figures["duration_s"] > 0
    # Progress went to stderr, with no traceback and no ERROR line on a successful run.
    assert "Full sync" in done.stderr
    assert "Ironwood Custom Homes (Xero)" in done.stderr
    assert "Traceback" not in done.stderr
    assert "ERROR" not in done.stderr
    # The demo's Prefect server is gone, and it kept its state under the data directory.
    assert (tmp_path / ".sierra" / "prefect" / "prefect.db").exists()
    assert not (tmp_path / ".sierra" / "prefect" / "server.json").exists()
