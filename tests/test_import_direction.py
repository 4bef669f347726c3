"""Imports point one way: sierra_sync (the top) -> flows -> tasks -> connectors/blocks -> sierra_core (the
bottom); connectors never import prefect; sandbox imports nothing of the project."""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PROJECT = {
    "flows",
    "tasks",
    "connectors",
    "blocks",
    "deployments",
    "sandbox",
    "migrations",
    "sierra_core",
    "sierra_sync",
}

# package -> top-level names it must never import
FORBIDDEN = {
    # the bottom reads the migration scripts (data for Alembic), nothing else of the project
    "sierra_core": PROJECT - {"sierra_core", "migrations"} | {"prefect"},
    "connectors": {"prefect", "flows", "tasks", "blocks", "deployments", "sandbox", "sierra_sync"},
    "sandbox": PROJECT - {"sandbox"},
    "tasks": {"flows", "deployments", "sierra_sync"},
    "blocks": {"flows", "tasks", "deployments", "sierra_sync"},
    "flows": {"deployments", "sierra_sync"},
    "deployments": {"sierra_sync"},
    "migrations": {"flows", "tasks", "blocks", "deployments", "prefect", "connectors", "sierra_sync"},
}


def imported_tops(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_import_direction(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_tops(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_walker_sees_imports():
    assert "prefect" in imported_tops(pathlib.Path(__file__).with_name("fixture_imports_prefect.txt"))
