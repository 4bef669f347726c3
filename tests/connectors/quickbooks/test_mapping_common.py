"""Shared mapping helpers: QBO timestamps, Decimal money, exact JSON, metadata, conflicts, purity."""

from __future__ import annotations

import ast
import json
import pathlib
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

import connectors.quickbooks.mapping as mapping
from connectors.quickbooks.mapping import (
    QboMeta,
    dumps_qbo,
    is_deleted,
    is_voided,
    money,
    qbo_meta,
    qbo_time,
    qbo_timestamp,
    resolve_conflict,
)
from connectors.quickbooks.mapping_common import MappingError, plain_number, to_decimal
from tests import fixtures

FIXTURES = fixtures.QUICKBOOKS
ROOT = pathlib.Path(__file__).resolve().parents[3]
D = Decimal


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)
    return data


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2025-06-10T06:19:51.939-07:00", datetime(2025, 6, 10, 13, 19, 51, 939000, tzinfo=UTC)),  # envelope
        ("2025-06-10T06:19:51-07:00", datetime(2025, 6, 10, 13, 19, 51, tzinfo=UTC)),  # MetaData
        ("2015-12-23T12:55:50-08:00", datetime(2015, 12, 23, 20, 55, 50, tzinfo=UTC)),  # winter offset
        ("2015-10-05T14:42:19-0700", datetime(2015, 10, 5, 21, 42, 19, tzinfo=UTC)),  # webhook, no colon
        ("2015-07-24T10:38:50.01-07:00", datetime(2015, 7, 24, 17, 38, 50, 10000, tzinfo=UTC)),  # 2 digits
        ("2026-03-01T00:00:00Z", datetime(2026, 3, 1, tzinfo=UTC)),
    ],
)
def test_qbo_time(text, utc):
    parsed = qbo_time(text)
    assert parsed == utc and parsed.tzinfo is UTC


def test_qbo_time_reads_every_timestamp_in_the_fixtures():
    seen = 0

    def walk(value: Any, key: str = "") -> None:
        nonlocal seen
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif key in ("time", "CreateTime", "LastUpdatedTime", "lastUpdated") and isinstance(value, str):
            assert qbo_time(value).tzinfo is UTC
            seen += 1

    for path in sorted(FIXTURES.glob("*.json")):
        walk(load(path.name).get("response", {}).get("body"))
        walk(load(path.name).get("request", {}).get("body"))
    assert seen > 40


def test_qbo_time_refuses_naive_and_converts_aware_datetimes():
    with pytest.raises(ValueError, match="no UTC offset"):
        qbo_time("2025-06-10T06:19:51")
    pacific = datetime(2025, 6, 10, 6, 0, tzinfo=timezone(timedelta(hours=-7)))
    assert qbo_time(pacific) == datetime(2025, 6, 10, 13, 0, tzinfo=UTC)


def test_qbo_timestamp():
    moment = datetime(2025, 6, 10, 6, 19, 51, 939000, tzinfo=timezone(timedelta(hours=-7)))
    assert qbo_timestamp(moment) == "2025-06-10T13:19:51Z"
    assert qbo_time(qbo_timestamp(moment)) == moment.replace(microsecond=0)
    with pytest.raises(ValueError, match="naive"):
        qbo_timestamp(datetime(2025, 1, 1))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("119.6"), "119.60"),
        (50, "50.00"),
        (D("100.1200"), "100.12"),
        (D("-10"), "-10.00"),
        ("9.60", "9.60"),
    ],
)
def test_money_is_to_the_cent(value, expected):
    assert str(money(value)) == expected and type(money(value)) is Decimal


@pytest.mark.parametrize("value", [D("0.005"), D("100.125"), "2.675", D("-0.001")])
def test_money_with_more_than_two_decimals_is_refused_not_rounded(value):
    with pytest.raises(MappingError, match=r"has more than two decimals") as err:
        money(value, "total")
    assert err.value.code == "sub_cent_amount" and not err.value.retryable
    assert f"total {D(value)} has more than two decimals" in str(err.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(D("10.0000"), "10"), (D("12.7500"), "12.75"), (D("0.0001"), "0.0001"), (D("100"), "100")],
)
def test_quantities_lose_trailing_zeros_but_never_become_exponents(value, expected):
    assert str(plain_number(value)) == expected


@pytest.mark.parametrize("bad", [1.5, True, None, [1]])
def test_floats_and_non_numbers_are_refused(bad):
    with pytest.raises(TypeError):
        to_decimal(bad)


def test_dumps_qbo_writes_decimals_exactly():
    body = {
        "Amount": D("50.00"),
        "Qty": D("5"),
        "TotalTax": D("9.60"),
        "DisplayName": 'Amy\'s Bird Sanctuary — Café "Olé"',
        "Line": [{"UnitPrice": D("12.75"), "Active": True, "Note": None}],
        "Count": 3,
    }
    text = dumps_qbo(body)
    assert '"Amount":50.00' in text and '"Qty":5' in text and '"TotalTax":9.60' in text
    assert "Caf\\u00e9" in text and "Amy's" in text  # ASCII on the wire, as the client sends it
    assert json.loads(text, parse_float=Decimal) == body
    with pytest.raises(TypeError, match="float"):
        dumps_qbo({"Amount": 50.0})
    with pytest.raises(ValueError, match="non-finite"):
        dumps_qbo({"Amount": D("NaN")})


def test_meta_deleted_and_voided_markers():
    cdc = load("cdc_sample.json")["response"]["body"]["CDCResponse"][0]["QueryResponse"][1]["Estimate"]
    assert [is_deleted(x) for x in cdc] == [False, False, True]
    assert qbo_meta(cdc[2]) == QboMeta("979", None, datetime(2015, 12, 23, 20, 55, 50, tzinfo=UTC))
    created = load("invoice_create.json")["response"]["body"]["BatchItemResponse"][0]["Invoice"]
    assert qbo_meta(created) == QboMeta("660", "0", datetime(2025, 6, 10, 13, 19, 51, tzinfo=UTC))
    assert is_voided(load("invoice_void_doc_sample.json")["response"]["body"]["Invoice"])
    assert is_voided(load("payment_void_doc_sample.json")["response"]["body"]["Payment"])
    assert not is_voided(created)
    assert not is_voided({"PrivateNote": "Voided cheque re-issued", "TotalAmt": D("10.00")})
    assert is_deleted(load("invoice_delete_doc_sample.json")["response"]["body"]["Invoice"])


T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("policy", "app", "qbo", "winner"),
    [
        ("last_write_wins", T0, T0 + timedelta(seconds=1), "qbo"),
        ("last_write_wins", T0 + timedelta(seconds=1), T0, "app"),
        ("last_write_wins", T0, T0, "app"),
        ("app_wins", T0, T0 + timedelta(days=1), "app"),
        ("qbo_wins", T0 + timedelta(days=1), T0, "qbo"),
    ],
)
def test_resolve_conflict(policy, app, qbo, winner):
    assert resolve_conflict(policy, app, qbo) == winner


def test_the_facade_exports_what_it_lists():
    assert sorted(mapping.__all__) == mapping.__all__
    assert all(hasattr(mapping, name) for name in mapping.__all__)


ALLOWED_IMPORTS = {
    "__future__",
    "json",
    "collections",
    "collections.abc",
    "dataclasses",
    "datetime",
    "decimal",
    "typing",
    "pydantic",
    "sierra_core.db.models.app",
    "connectors.quickbooks.codec",
    "connectors.seed.catalog",  # seed data only
    "connectors.quickbooks.settings",
    "connectors.quickbooks.mapping_common",
    "connectors.quickbooks.mapping_customer",
    "connectors.quickbooks.mapping_invoice",
    "connectors.quickbooks.mapping_payment",
    "connectors.quickbooks.mapping_expense",
    "sierra_core.errors",
}


@pytest.mark.parametrize(
    "module",
    [
        "codec",
        "settings",
        "mapping",
        "mapping_common",
        "mapping_customer",
        "mapping_invoice",
        "mapping_payment",
        "mapping_expense",
    ],
)
def test_mapping_modules_import_nothing_that_does_io(module):
    tree = ast.parse((ROOT / "connectors" / "quickbooks" / f"{module}.py").read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == "connectors.quickbooks":
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert imported <= ALLOWED_IMPORTS, imported - ALLOWED_IMPORTS
