"""Run another project's pytest suite, unchanged, in a virtualenv of its own, and collect each test's outcome.

The suite's code stays in its checkout (never copied here). The project's plugins (`bench/fidelity/plugins/`)
are put on the suite's PYTHONPATH and loaded with `-p`; `sierra_fidelity_results` writes one JSON line per
test, which `run_suite` reads back as `Outcome`s.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

PLUGINS = Path(__file__).resolve().parent / "plugins"
RESULTS_PLUGIN = "sierra_fidelity_results"


class HarnessError(Exception):
    """Something the person running the harness must fix (a wrong path, a failed install)."""


@dataclass(frozen=True)
class Outcome:
    """One test of the foreign suite: its node id, `passed` / `failed` / `skipped` / `error`, and why."""

    nodeid: str
    outcome: str
    reason: str = ""


@dataclass
class SuiteResult:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    def summary(self) -> str:
        counts = Counter(o.outcome for o in self.outcomes)
        extra = "".join(f", {counts[k]} {k}" for k in ("error", "skipped") if counts[k])
        return f"{self.name}: {counts['passed']} passed, {counts['failed']} failed{extra}"

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.outcome in ("failed", "error")]


def check_checkout(path: Path, marker: str, repo: str) -> Path:
    """The checkout's root, or a HarnessError saying what is expected there."""
    root = path.expanduser().resolve()
    if not (root / marker).exists():
        raise HarnessError(
            f"{root} is not a checkout of {repo} (no {marker}); "
            f"clone it first: git clone https://github.com/{repo} and pass its folder"
        )
    return root


def ensure_venv(cache: Path, name: str, requirements: Sequence[str], quiet: bool = True) -> Path:
    """A virtualenv under `cache` with exactly `requirements` installed; reused while they are unchanged.

    Returns its python. The venv is keyed by a hash of the requirement list, so a change makes a new one.
    """
    digest = hashlib.sha256("\n".join(sorted(requirements)).encode()).hexdigest()[:12]
    venv = cache / f"{name}-{digest}"
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    if stamp.exists():
        return python
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *requirements]
    if quiet:
        cmd.insert(4, "--quiet")
    done = subprocess.run(cmd, capture_output=quiet, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or "").strip().splitlines()[-3:]
        raise HarnessError(f"installing {name}'s test requirements failed: {' / '.join(tail)}")
    stamp.write_text("\n".join(requirements))
    return python


def run_suite(
    name: str,
    python: Path,
    checkout: Path,
    targets: Sequence[str],
    plugins: Sequence[str],
    env: dict[str, str],
    extra_args: Sequence[str] = (),
    timeout_s: float = 1800,
) -> SuiteResult:
    """Run `pytest targets` in `checkout` with `python`, the given plugins loaded, and collect outcomes."""
    with tempfile.TemporaryDirectory(prefix="fidelity-") as tmp:
        results = Path(tmp) / "results.jsonl"
        full_env = {
            **os.environ,
            **env,
            "PYTHONPATH": os.pathsep.join([str(PLUGINS), str(checkout)]),
            "SIERRA_FIDELITY_RESULTS": str(results),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        full_env.pop("VIRTUAL_ENV", None)
        cmd = [str(python), "-m", "pytest", "-p", RESULTS_PLUGIN]
        for plugin in plugins:
            cmd += ["-p", plugin]
        # No cache folder in the checkout, quiet output, foreign warnings never fatal here.
        cmd += ["-p", "no:cacheprovider", "-q", "--no-header", "-rN", "-W", "ignore", *extra_args, *targets]
        try:
            subprocess.run(
                cmd,
                cwd=checkout,
                env=full_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise HarnessError(
                f"{name}: the suite did not finish within {timeout_s:.0f} s; run part of it with -k EXPR"
            ) from None
        if not results.exists():
            raise HarnessError(f"{name}: pytest wrote no results (run it by hand in {checkout} to see why)")
        outcomes = [Outcome(**json.loads(line)) for line in results.read_text().splitlines() if line]
    return SuiteResult(name, outcomes)
