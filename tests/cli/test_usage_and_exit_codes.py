"""Usage errors are one line like every other error, and the exit statuses the command line uses are exactly
the ones README.md documents."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sierra_core.shutdown import STOP_SIGNALS
from sierra_sync.cli.main import INTERRUPTED_EXIT, USAGE_EXIT

ROOT = Path(__file__).resolve().parents[2]
CODE = ["sierra_core", "sierra_sync", "connectors", "flows", "tasks", "blocks", "deployments"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["run", "--bogus"], "No such option: --bogus"),
        (["up", "--prefect-prt", "3"], "No such option: --prefect-prt"),
        (["run"], "Missing argument"),
        (["nonsense"], "No such command 'nonsense'"),
        # the kernel would take 99999 modulo 65536 and listen somewhere else without a word
        (["sandbox", "--provider", "xero", "--port", "99999"], "less than or equal to 65535"),
    ],
)
def test_a_usage_error_is_one_line_with_status_2(tmp_path: Path, args: list[str], says: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIERRA_", "PREFECT_"))}
    env["SIERRA_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "sierra_sync", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == USAGE_EXIT, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and says in lines[0]
    assert "--help" in lines[0]  # where to read more
    assert done.stdout == ""


def _literal_int(node: ast.AST) -> int | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, int) else None


def used_exit_codes() -> set[int]:
    """Every exit status the code can end with: error classes' exit_code, Exit(N) / sys.exit(N) /
    exit_now(N) with a literal, module constants *_EXIT, and 128 + each stop signal (a forced stop)."""
    codes: set[int] = {0, 1}  # success; an uncaught SierraError subclass without its own code (base: 1)
    for folder in CODE:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target = node.targets[0]
                    name = target.id if isinstance(target, ast.Name) else ""
                    value = _literal_int(node.value)
                    if value is not None and (name == "exit_code" or name.endswith("_EXIT")):
                        codes.add(value)
                elif isinstance(node, ast.Call) and node.args:
                    func = node.func
                    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    value = _literal_int(node.args[0])
                    if called in {"Exit", "exit", "exit_now", "_exit"} and value is not None:
                        codes.add(value)
    codes.update(128 + int(sig) for sig in STOP_SIGNALS)
    return codes


def documented_exit_codes() -> set[int]:
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| status | meaning |") :].split("\n\n", 1)[0]
    found: set[int] = set()
    for row in table.splitlines()[2:]:
        first = row.split("|")[1]
        found.update(int(n) for n in re.findall(r"\d+", first))
    return found


def test_the_documented_exit_statuses_are_the_used_ones() -> None:
    assert {USAGE_EXIT, INTERRUPTED_EXIT} <= used_exit_codes()
    assert documented_exit_codes() == used_exit_codes()
