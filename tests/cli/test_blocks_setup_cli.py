"""`sierra-sync blocks setup` refuses insecure URLs in one line, before anything is saved (the Prefect API it
is pointed at does not exist: a command that got as far as saving would fail another way)."""

from __future__ import annotations

import os
import subprocess
import sys

from sierra_sync.demo.prefect_server import free_port

REAL_APP = ["--client-id", "ABcd1234", "--environment", "production"]


def test_setup_refuses_a_plain_http_redirect_uri_in_one_line() -> None:
    """(The Stripe API base URL is checked the same way: tests/blocks/test_stripe_blocks.py.)"""
    args = [*REAL_APP, "--redirect-uri", "http://example.com/oauth/quickbooks/callback"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIERRA_", "PREFECT_"))}
    env.update(
        SIERRA_QBO_CLIENT_SECRET="intuit-client-secret-value",
        PREFECT_API_URL=f"http://127.0.0.1:{free_port('127.0.0.1')}/api",  # nothing listens there
    )
    proc = subprocess.run(
        [sys.executable, "-m", "sierra_sync", "blocks", "setup", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "redirect URI" in lines[0] and "must use https" in lines[0], lines[0]
    assert "intuit-client-secret-value" not in proc.stderr + proc.stdout
