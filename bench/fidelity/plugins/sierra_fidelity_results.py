"""pytest plugin: one JSON line per test (nodeid, outcome, reason) appended to $SIERRA_FIDELITY_RESULTS.

Loaded into a foreign suite by the fidelity harness; it changes nothing of that suite's behaviour.
"""

from __future__ import annotations

import json
import os
from typing import Any

_seen: dict[str, dict[str, str]] = {}


def _reason(report: Any) -> str:
    longrepr = getattr(report, "longrepr", None)
    if longrepr is None:
        return ""
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message).splitlines()[0][:300]
    if isinstance(longrepr, tuple):  # a skip: (file, line, reason)
        return str(longrepr[2])[:300]
    return str(longrepr).strip().splitlines()[-1][:300]


def pytest_runtest_logreport(report: Any) -> None:
    nodeid = report.nodeid
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcome = report.outcome if report.when == "call" else ("skipped" if report.skipped else "error")
        _seen[nodeid] = {"nodeid": nodeid, "outcome": outcome, "reason": _reason(report)}
    elif report.when == "teardown" and report.failed and _seen.get(nodeid, {}).get("outcome") == "passed":
        _seen[nodeid] = {"nodeid": nodeid, "outcome": "error", "reason": _reason(report)}


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    path = os.environ.get("SIERRA_FIDELITY_RESULTS")
    if not path:
        return
    with open(path, "w", encoding="utf-8") as out:
        for row in _seen.values():
            out.write(json.dumps(row) + "\n")
