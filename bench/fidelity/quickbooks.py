"""python-quickbooks' integration tests (ej2/python-quickbooks, tests/integration) against the QBO sandbox.

Those tests were written and run against Intuit's real sandbox company: one company, its sample books, an
OAuth app's client id and secret, and a refresh token, all read from the environment. Here the company is a
new realm of the local sandbox (with its sample books), the token comes from the sandbox's admin API, and
the plugin `sierra_fidelity_qbo` changes the two base URLs. Nothing else of the suite is touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import httpx

from bench.fidelity.runner import SuiteResult, check_checkout, ensure_venv, run_suite
from sandbox.common.server import LocalServer
from sandbox.quickbooks import SandboxOptions, create_app

NAME = "python-quickbooks"
REPO = "ej2/python-quickbooks"
CLIENT_ID, CLIENT_SECRET = "fidelity-client", "fidelity-secret"
EXTRA_REQUIREMENTS = ("python-dateutil", "pytest>=8,<9")


def requirements(checkout: Path) -> list[str]:
    """The suite's own pinned requirements (requirements.txt) plus what running it needs."""
    lines = (checkout / "requirements.txt").read_text().split()
    return [line for line in lines if line and not line.startswith("#")] + list(EXTRA_REQUIREMENTS)


def run(checkout_dir: Path, cache: Path, pytest_args: Sequence[str] = (), latency_ms: int = 0) -> SuiteResult:
    checkout = check_checkout(checkout_dir, "tests/integration/test_base.py", REPO)
    python = ensure_venv(cache, NAME, requirements(checkout))
    options = SandboxOptions(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, requests_per_minute=0, latency_ms=latency_ms
    )
    with LocalServer(create_app(options)) as server:
        realm = httpx.post(
            f"{server.url}/__sandbox/realms", json={"tokens": True, "name": "Fidelity Sample Co"}, timeout=30
        ).json()
        env = {
            "SIERRA_FIDELITY_QBO_URL": server.url,
            "CLIENT_ID": CLIENT_ID,
            "CLIENT_SECRET": CLIENT_SECRET,
            "REFRESH_TOKEN": realm["tokens"]["refresh_token"],
            "COMPANY_ID": realm["realm_id"],
        }
        return run_suite(
            NAME, python, checkout, ["tests/integration"], ["sierra_fidelity_qbo"], env, pytest_args
        )
