"""`sierra-sync sandbox --provider xero` starts the Xero sandbox from the registry; an organisation made
through the admin API is listed by GET /connections and its seeded accounts answer with Xero's headers;
with --xero-state-file a second run serves that organisation again."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.processes import finish

ROOT = Path(__file__).resolve().parents[3]


def test_the_xero_sandbox_from_the_command_line() -> None:
    cmd = [sys.executable, "-c", "from sierra_sync.cli.main import main; main()", "sandbox"]
    cmd += ["--provider", "xero", "--port", "0"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        seen, url = "", None
        for _ in range(50):
            line = proc.stdout.readline()
            seen += line
            if line.startswith("Xero sandbox:"):
                url = line.split()[2]
            if "Ctrl-C" in line or not line:
                break
        assert url is not None and url.startswith("http://127.0.0.1:"), seen
        tokens = httpx.post(f"{url}/__sandbox/tokens", json={}, timeout=10).json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        connections = httpx.get(f"{url}/connections", headers=bearer, timeout=10).json()
        assert [c["tenantId"] for c in connections] == [tokens["tenantId"]]
        answer = httpx.get(
            f"{url}/api.xro/2.0/Accounts",
            headers=bearer | {"xero-tenant-id": tokens["tenantId"]},
            timeout=10,
        )
        assert answer.status_code == 200
        assert {a["Code"] for a in answer.json()["Accounts"]} >= {"090", "200"}
        assert answer.headers["X-MinLimit-Remaining"] == "59"  # Xero's 60 a minute per organisation
        assert answer.headers["X-DayLimit-Remaining"] == "4999"
        assert answer.headers["X-AppMinLimit-Remaining"] == "9999"
    finally:
        out = finish(proc)
    assert proc.returncode == 0, out


@contextmanager
def _running(*extra: str) -> Iterator[str]:
    cmd = [sys.executable, "-c", "from sierra_sync.cli.main import main; main()", "sandbox"]
    cmd += ["--provider", "xero", "--port", "0", *extra]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        seen, url = "", None
        for _ in range(50):
            line = proc.stdout.readline()
            seen += line
            if line.startswith("Xero sandbox:"):
                url = line.split()[2]
            if "Ctrl-C" in line or not line:
                break
        assert url is not None, seen
        yield url
    finally:
        out = finish(proc)
    assert proc.returncode == 0, out


def test_the_xero_state_file_keeps_the_organisation_across_runs(tmp_path: Path) -> None:
    state = tmp_path / "sandbox" / "xero.sqlite"
    with _running("--xero-state-file", str(state)) as url:
        tokens = httpx.post(f"{url}/__sandbox/tokens", json={}, timeout=10).json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": tokens["tenantId"]}
        contact = {"Name": "Kept Across Runs"}
        made = httpx.put(f"{url}/api.xro/2.0/Contacts", json=contact, headers=headers, timeout=10)
        assert made.status_code == 200, made.text
    with _running("--xero-state-file", str(state)) as url:
        answer = httpx.get(f"{url}/api.xro/2.0/Contacts", headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
        assert "Kept Across Runs" in {c["Name"] for c in answer.json()["Contacts"]}


def test_a_state_file_that_is_not_one_is_one_clear_error_and_is_left_alone(tmp_path: Path) -> None:
    state = tmp_path / "xero.sqlite"
    state.write_text("my notes, not a sandbox\n")
    cmd = [sys.executable, "-c", "from sierra_sync.cli.main import main; main()", "sandbox"]
    cmd += ["--provider", "xero", "--port", "0", "--xero-state-file", str(state)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert f"the state file {state} is not a sandbox state file" in done.stderr
    assert "move it away or name another file" in done.stderr
    assert state.read_text() == "my notes, not a sandbox\n"  # nothing of the user's file is lost


def test_a_state_file_that_is_a_directory_is_one_clear_error(tmp_path: Path) -> None:
    cmd = [sys.executable, "-c", "from sierra_sync.cli.main import main; main()", "sandbox"]
    cmd += ["--provider", "xero", "--port", "0", "--xero-state-file", str(tmp_path)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert f"the state file {tmp_path} cannot be opened" in done.stderr
