"""Spreadsheet-safe CSV cells, and the reconciliation report writing through them."""

from __future__ import annotations

import csv

import pytest

from connectors.csvsafe import safe_cell
from connectors.reconcile.report import write_csv


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-12.50", "-12.50"),
        ("+7", "+7"),
        ("-1e3", "-1e3"),
        ("Ridge Framing", "Ridge Framing"),
        ("a=b", "a=b"),
        ("", ""),
        (None, None),
        (-12, -12),
    ],
)
def test_formula_starts_become_text_and_numbers_stay_numbers(value, written) -> None:
    assert safe_cell(value) == written


def test_the_reconciliation_report_escapes_names_from_outside(tmp_path) -> None:
    rows = [
        {"entity_type": "customer", "number": "=cmd|' /C calc'!A0", "difference": "-10.00", "detail": "ok"},
    ]
    path = write_csv(tmp_path / "r.csv", rows)
    with path.open(newline="", encoding="utf-8") as fh:
        [row] = list(csv.DictReader(fh))
    assert row["number"] == "'=cmd|' /C calc'!A0"
    assert (row["difference"], row["detail"]) == ("-10.00", "ok")
