"""The client modules' public API: `__all__` is accurate and documented (imports are checked elsewhere)."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = [
    "connectors.quickbooks.errors",
    "connectors.quickbooks.classify",
    "connectors.quickbooks.codec",
    "connectors.kit.auth",
    "connectors.quickbooks.client",
    "connectors.kit.ratelimit",
    "connectors.quickbooks.query",
    "connectors.quickbooks.cdc",
    "connectors.quickbooks.batch",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist_and_are_documented(name):
    module = importlib.import_module(name)
    assert module.__doc__
    exported = module.__all__
    assert len(set(exported)) == len(exported)
    for attr in exported:
        obj = getattr(module, attr)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__doc__, f"{name}.{attr} has no docstring"


@pytest.mark.parametrize("name", MODULES)
def test_public_classes_and_functions_defined_here_are_exported(name):
    module = importlib.import_module(name)
    for attr, obj in vars(module).items():
        if attr.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if getattr(obj, "__module__", None) != name:
            continue
        if attr in {"Rule", "Condition", "Literal"}:  # internal helper types
            continue
        assert attr in module.__all__, f"{name}.{attr} is public but not in __all__"
