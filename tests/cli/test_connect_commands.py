"""blocks setup --local, connect/disconnect quickbooks --no-browser and keys rotate, as real processes
against the local QBO sandbox and a Prefect server, on both databases."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from urllib.parse import urlsplit

import pytest

from sierra_core.db.models import Integration
from tests import factories


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def cli(db, qbo, prefect_api, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIERRA_")}
    env.update(
        SIERRA_DATABASE_URL=db.url,
        SIERRA_QBO_PORT=str(urlsplit(qbo.url).port),
        SIERRA_API_PORT=str(_free_port()),
        PREFECT_API_URL=prefect_api,
        PREFECT_HOME=str(tmp_path / "prefect"),
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sierra_sync", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
            check=False,
        )

    return run


def test_setup_connect_rotate_disconnect(cli, sessions, qbo):
    with sessions.begin() as s:
        factories.company(s, "Zoë's Renovations")
    setup = cli("blocks", "setup", "--local", "--json")
    assert setup.returncode == 0, setup.stderr
    assert json.loads(setup.stdout)["environment"] == "local"
    assert "local-secret" not in setup.stdout + setup.stderr

    connected = cli("connect", "quickbooks", "--company", "Zoë's Renovations", "--no-browser", "--json")
    assert connected.returncode == 0, connected.stderr
    integration_id = json.loads(connected.stdout)["integration_id"]
    with sessions() as s:
        row = s.get(Integration, uuid.UUID(integration_id))
        assert row is not None and row.connection_status == "connected"
        first_key = row.token_key_id
    issued = qbo.admin("GET", "tokens")
    everything = connected.stdout + connected.stderr
    assert all(t["token"] not in everything for t in issued["access_tokens"] + issued["refresh_tokens"])

    rotated = cli("keys", "rotate", "--json")
    assert rotated.returncode == 0, rotated.stderr
    report = json.loads(rotated.stdout)
    assert report["integrations_resealed"] == 1 and report["key_id"] != first_key
    assert report["left_on_old_keys"] == 0 and first_key in report["removable_key_ids"]
    assert report["key_id"] not in report["removable_key_ids"]
    again = cli("keys", "rotate", "--reseal-only")
    assert again.returncode == 0, again.stderr
    assert "0 values left on older keys: " in again.stdout and first_key in again.stdout

    gone = cli("disconnect", "quickbooks", "--company", "Zoë's Renovations", "--json")
    assert gone.returncode == 0, gone.stderr
    assert json.loads(gone.stdout)["revoked"] is True
    with sessions() as s:
        row = s.get(Integration, uuid.UUID(integration_id))
        assert row is not None and row.refresh_token is None and row.connection_status == "disconnected"


def test_connect_unknown_company_is_one_line(cli):
    proc = cli("connect", "quickbooks", "--company", "Nobody Builders", "--no-browser")
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert "no company" in proc.stderr
