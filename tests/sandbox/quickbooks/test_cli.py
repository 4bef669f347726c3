"""`sierra-sync sandbox`: starts the sandboxes, prints their URLs and the client id (never the secret)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.processes import finish

ROOT = Path(__file__).resolve().parents[3]


def test_sandbox_command_serves_until_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "qbo.sqlite"
    cmd = [
        sys.executable,
        "-c",
        "from sierra_sync.cli.main import main; main()",
        "sandbox",
        "--qbo-port",
        "0",
        "--stripe-port",
        "0",
        "--xero-port",
        "0",
        "--client-secret",
        "very-secret-value",
        "--state-file",
        str(state),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        first = ""
        match = None
        for _ in range(50):  # skip anything printed before the banner (warnings of imported libraries)
            line = proc.stdout.readline()
            first += line
            match = re.search(r"QuickBooks Online sandbox: (http://\S+)\s+\(client id: local-client\)", line)
            if match or not line:
                break
        assert match, first
        url = match.group(1)
        doc = httpx.get(f"{url}/.well-known/openid_configuration", timeout=5).json()
        assert doc["token_endpoint"] == f"{url}/oauth2/v1/tokens/bearer"
        token = httpx.post(
            doc["token_endpoint"],
            data={"grant_type": "refresh_token", "refresh_token": "x"},
            auth=("local-client", "very-secret-value"),
            timeout=5,
        )
        assert token.json()["error"] == "invalid_grant"  # the secret given on the command line is the app's
    finally:
        out = finish(proc)
    assert proc.returncode == 0, out
    assert "very-secret-value" not in first + out
    assert state.exists()


def test_bad_rate_is_one_line_error() -> None:
    cmd = [
        sys.executable,
        "-c",
        "from sierra_sync.cli.main import main; main()",
        "sandbox",
        "--error-rate",
        "2",
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0 and "--error-rate" in done.stderr
