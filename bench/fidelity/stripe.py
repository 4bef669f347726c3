"""stripe-python's own test suite (stripe/stripe-python, tests/) against the Stripe sandbox.

That suite runs against stripe-mock, found through STRIPE_MOCK_HOST / STRIPE_MOCK_PORT (its conftest only
checks that something answers there). Here those point at the local Stripe sandbox, and the plugin
`sierra_fidelity_stripe` makes, before each test that reaches the sandbox, the real objects stripe-mock's
placeholder ids stand for. The suite itself is not touched; it runs one process (`-n 0`) instead of xdist.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from bench.fidelity.runner import SuiteResult, check_checkout, ensure_venv, run_suite
from sandbox.common.server import LocalServer
from sandbox.stripe import StripeSandboxOptions, create_app

NAME = "stripe-python"
REPO = "stripe/stripe-python"
MARKER = "tests/test_generated_examples.py"
# stripe-python's runtime dependencies (pyproject), then what its tests need beyond its deps/ file.
RUNTIME_REQUIREMENTS = ("requests >= 2.20", "typing_extensions >= 4.5.0")
EXTRA_REQUIREMENTS = ("pytest>=8,<9",)


def requirements(checkout: Path) -> list[str]:
    """The suite's test requirements (deps/test-requirements.txt, markers kept) plus the runtime."""
    lines = (checkout / "deps" / "test-requirements.txt").read_text().splitlines()
    wanted = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    pinned_pytest = [line for line in wanted if not line.replace(" ", "").startswith("pytest>=")]
    return pinned_pytest + list(RUNTIME_REQUIREMENTS) + list(EXTRA_REQUIREMENTS)


def suite_env(url: str) -> dict[str, str]:
    """Where the suite looks for stripe-mock, and where the plugin finds the sandbox's admin API."""
    parts = urlsplit(url)
    return {
        "STRIPE_MOCK_HOST": parts.hostname or "127.0.0.1",
        "STRIPE_MOCK_PORT": str(parts.port),
        "SIERRA_FIDELITY_STRIPE_URL": url,
    }


def run(checkout_dir: Path, cache: Path, pytest_args: Sequence[str] = (), latency_ms: int = 0) -> SuiteResult:
    checkout = check_checkout(checkout_dir, MARKER, REPO)
    python = ensure_venv(cache, NAME, requirements(checkout))
    options = StripeSandboxOptions(latency_ms=latency_ms, webhook_timeout_seconds=1.0, webhook_max_attempts=1)
    with LocalServer(create_app(options)) as server:
        return run_suite(
            NAME,
            python,
            checkout,
            ["tests"],
            ["sierra_fidelity_stripe"],
            suite_env(server.url),
            ["-n", "0", *pytest_args],
            timeout_s=3 * 3600,  # ~3200 tests, one process; about half reach the sandbox
        )
