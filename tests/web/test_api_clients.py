"""The API's own clients, run for real: the checked-in Postman collection is the one generated from the
OpenAPI document, newman runs it against a live seeded `sierra-sync api serve` (sample_server), and the
Zapier app's offline tests (`npm test` in integrations/zapier, which starts its own sample server) pass.
Both need node and the packages of `make node`; without node they are skipped, saying so."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from sierra_sync.web.api.postman import COLLECTION_PATH, build_collection, openapi_document, render
from sierra_sync.web.api.sample_server import seed
from tests.web.api_helpers import keyring

ROOT = Path(__file__).resolve().parents[2]
ZAPIER = ROOT / "integrations" / "zapier"


def _node_or_skip(*modules: Path) -> None:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed: the Postman and Zapier checks need node and npm")
    for folder in modules:
        if not folder.is_dir():
            pytest.fail(f"{folder} is missing: run `make node` (npm ci) first")


def test_the_checked_in_collection_is_the_generated_one() -> None:
    generated = build_collection(openapi_document())
    assert (ROOT / COLLECTION_PATH).read_text() == render(generated), (
        "run python -m sierra_sync.web.api.postman"
    )
    requests = [item for folder in generated["item"] for item in folder["item"]]
    for item in requests:  # every request checks its status, and every success its shape and a value
        script = "\n".join(item["event"][0]["script"]["exec"])
        assert "pm.response.to.have.status(" in script, item["name"]
        if item["request"]["method"] != "DELETE":
            assert 'pm.test("value"' in script, item["name"]


def test_the_sample_server_seeds_a_company_with_every_row_the_clients_read(sessions) -> None:
    with sessions.begin() as session:
        key, ids = seed(session, keyring(), datetime.now(UTC))
    assert key.startswith("sk_test_")
    assert set(ids) >= {
        "contact",
        "project",
        "invoice",
        "paid_invoice",
        "sync_log",
        "subscription",
        "delivery",
    }


@pytest.fixture(scope="module")
def sample_api(prefect_api: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIERRA_")}
    env.update(PREFECT_API_URL=prefect_api, PYTHONPATH=str(ROOT))
    data_dir = tmp_path_factory.mktemp("sample-api")
    command = [sys.executable, "-m", "sierra_sync.web.api.sample_server", "--data-dir", str(data_dir)]
    pipe = subprocess.PIPE
    with subprocess.Popen(command, env=env, text=True, stdin=pipe, stdout=pipe) as proc:  # closes the pipes
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line, f"the sample server exited with {proc.wait(30)} before it served"
            yield json.loads(line)
        finally:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:  # killed and waited for: the server does not outlive the tests
                proc.kill()
                proc.wait()


@pytest.mark.slow
def test_newman_runs_the_collection_against_a_live_api(sample_api: dict[str, Any]) -> None:
    _node_or_skip(ROOT / "node_modules" / "newman")
    assert httpx.get(f"{sample_api['baseUrl']}/projects", timeout=10).status_code == 401
    report = ROOT / ".sierra" / "artifacts" / "newman.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    run = subprocess.run(
        [
            str(ROOT / "node_modules" / ".bin" / "newman"),
            "run",
            str(ROOT / COLLECTION_PATH),
            "--env-var",
            f"baseUrl={sample_api['baseUrl']}",
            "--env-var",
            f"apiKey={sample_api['apiKey']}",
            "--reporters",
            "cli,json",
            "--reporter-json-export",
            str(report),
            "--bail",
            "--disable-unicode",
            "--color",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    stats = json.loads(report.read_text())["run"]["stats"]
    operations = sum(1 for p in openapi_document()["paths"] if p.startswith("/api/v1/"))
    assert stats["requests"]["total"] >= operations
    assert stats["assertions"]["failed"] == 0
    assert stats["assertions"]["total"] >= 3 * stats["requests"]["total"] - 10  # status, shape, value


@pytest.mark.slow
def test_the_zapier_app_passes_its_offline_tests(prefect_api: str) -> None:
    _node_or_skip(ZAPIER / "node_modules" / "zapier-platform-core")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIERRA_")}
    # The sample server of `npm test` reuses this run's Prefect server rather than starting its own.
    env.update(SIERRA_PYTHON=sys.executable, PYTHONPATH=str(ROOT), PREFECT_API_URL=prefect_api)
    run = subprocess.run(
        ["npm", "test", "--silent"],
        cwd=ZAPIER,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-8000:]
    assert "# fail 0" in output, output[-4000:]
    assert "zapier.com" not in output  # nothing was sent to Zapier's servers (see test/run.js)
