"""CSV cells that a spreadsheet will not run: text that starts like a formula (`=`, `+`, `-`, `@`, tab or
carriage return) gets a leading apostrophe, which Excel, LibreOffice and Google Sheets show as text.

Finance opens our exports in spreadsheets, and some cells come from outside (customer names, invoice
numbers, error messages from QuickBooks or Stripe): `=HYPERLINK(...)` in a customer name must stay text.
Numbers are left alone, so `-12.50` is still a number (OWASP's CSV-injection advice)."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["safe_cell", "safe_row"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(cells: Any) -> list[Any]:
    return [safe_cell(cell) for cell in cells]
