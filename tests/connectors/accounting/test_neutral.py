"""The neutral sync package names no provider: whatever is QuickBooks-only lives behind the adapter."""

from __future__ import annotations

import re
from pathlib import Path

import connectors.accounting

PROVIDER_WORDS = re.compile(r"quickbooks|qbo|intuit|realm", re.IGNORECASE)


def test_the_neutral_package_names_no_quickbooks() -> None:
    root = Path(connectors.accounting.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) >= 5  # the package and its modules are really there
    hits = [
        f"{path.relative_to(root)}:{n}: {line.strip()}"
        for path in files
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PROVIDER_WORDS.search(line)
    ]
    assert hits == []


def test_the_word_check_would_catch_a_provider_name() -> None:
    assert PROVIDER_WORDS.search("from connectors.quickbooks.client import QuickBooksClient")
    assert PROVIDER_WORDS.search("the realm's budget")
    assert not PROVIDER_WORDS.search("links app id <-> external id")
