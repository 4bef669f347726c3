"""Export a company's sync log (`integration_sync_logs`) to CSV, streamed and atomically written.

Rows are read in chunks through a server-side cursor on PostgreSQL (an ordinary lazy cursor on SQLite), so
an export of a million rows never holds them all in memory. The file is written next to its destination
under a temporary name and renamed over it only once complete: a failed export leaves the old file (or
nothing), never half a file.

Columns, in this order (`EXPORT_COLUMNS`); times are ISO 8601 in UTC (`2026-11-26T03:49:34.123456+00:00`),
empty cells are NULLs, payload and detail columns are compact JSON passed through `redact` again (numbers
keep their exact digits):

    id, company_id, integration_id, created_at, started_at, completed_at, duration_ms,
    sync_type, direction, trigger, entity_type, entity_id, external_entity_id,
    status, attempt_number, retry_count, max_retries, next_retry_at,
    error_code, error_message, error_details, request_payload, response_payload,
    flow_run_id, request_id, retried_by_id

Rows are ordered by `started_at`, then `id` (a stable order for the same data).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Text, cast, select
from sqlalchemy.sql.elements import ColumnElement

from connectors.csvsafe import safe_row
from connectors.quickbooks.codec import dumps as exact_json
from sierra_core.db.models import IntegrationSyncLog
from sierra_core.db.models.base import table_of
from sierra_core.db.models.integration import SYNC_LOG_STATUSES
from sierra_core.errors import ConfigError, SierraError
from sierra_core.redact import redact, redact_text

__all__ = ["EXPORT_COLUMNS", "JSON_COLUMNS", "export_sync_logs", "iter_sync_log_rows", "parse_since"]

EXPORT_COLUMNS: tuple[str, ...] = (
    "id",
    "company_id",
    "integration_id",
    "created_at",
    "started_at",
    "completed_at",
    "duration_ms",
    "sync_type",
    "direction",
    "trigger",
    "entity_type",
    "entity_id",
    "external_entity_id",
    "status",
    "attempt_number",
    "retry_count",
    "max_retries",
    "next_retry_at",
    "error_code",
    "error_message",
    "error_details",
    "request_payload",
    "response_payload",
    "flow_run_id",
    "request_id",
    "retried_by_id",
)
JSON_COLUMNS = frozenset({"error_details", "request_payload", "response_payload"})
_TEXT_COLUMNS = frozenset({"error_message"})


def parse_since(value: str) -> datetime:
    """`--since` as an aware UTC datetime: an ISO date (`2026-11-01`) or date-time; without an offset it is
    read as UTC. Anything else is a ConfigError saying what is expected."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(text), time.min)
        except ValueError:
            raise ConfigError(
                f"--since {value!r} is not an ISO date or date-time; use e.g. 2026-11-01 or "
                "2026-11-01T08:00:00+00:00"
            ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _check_statuses(statuses: Iterable[str]) -> list[str]:
    wanted = list(statuses)
    unknown = [s for s in wanted if s not in SYNC_LOG_STATUSES]
    if unknown:
        raise ConfigError(
            f"unknown sync-log status {', '.join(map(repr, unknown))}; "
            f"use one of: {', '.join(SYNC_LOG_STATUSES)}"
        )
    return wanted


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    if column in JSON_COLUMNS:
        # Read as JSON text and parsed here with Decimal, so amounts keep their digits (119.60 stays 119.60).
        doc = json.loads(value, parse_float=Decimal) if isinstance(value, str) else value
        return "" if doc is None else exact_json(redact(doc)).decode("ascii")
    if column in _TEXT_COLUMNS:
        return redact_text(str(value))
    return str(value)


def iter_sync_log_rows(
    engine: Engine,
    company_id: uuid.UUID,
    *,
    since: datetime | None = None,
    statuses: Sequence[str] = (),
    entity_types: Sequence[str] = (),
    chunk_size: int = 2000,
) -> Iterator[list[str]]:
    """The CSV cells (strings, in `EXPORT_COLUMNS` order) of the company's sync-log rows, streamed in chunks
    of `chunk_size`; `since` keeps attempts started at or after it, `statuses` / `entity_types` (when
    non-empty) keep only those values."""
    wanted_statuses = _check_statuses(statuses)
    t = table_of(IntegrationSyncLog)
    columns: list[ColumnElement[Any]] = [
        cast(t.c[name], Text).label(name) if name in JSON_COLUMNS else t.c[name] for name in EXPORT_COLUMNS
    ]
    stmt = select(*columns).where(t.c.company_id == company_id).order_by(t.c.started_at, t.c.id)
    if since is not None:
        stmt = stmt.where(t.c.started_at >= since)
    if wanted_statuses:
        stmt = stmt.where(t.c.status.in_(wanted_statuses))
    if entity_types:
        stmt = stmt.where(t.c.entity_type.in_(list(entity_types)))
    with (
        engine.connect() as conn,
        conn.execution_options(stream_results=True, yield_per=chunk_size).execute(stmt) as result,
    ):
        for partition in result.partitions():
            for row in partition:
                yield [_cell(name, value) for name, value in zip(EXPORT_COLUMNS, row, strict=True)]


def _open_temp_beside(out: Path) -> tuple[int, Path]:
    directory = out.parent if str(out.parent) else Path(".")
    if out.exists() and out.is_dir():
        raise SierraError(f"cannot write the export to {out}: it is a directory; pass a file name")
    if not directory.is_dir():
        raise SierraError(f"cannot write the export to {out}: folder {directory} does not exist")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=directory)
    except OSError as err:
        raise SierraError(
            f"cannot write the export to {out}: {err.strerror or err}; choose a writable folder"
        ) from None
    return fd, Path(name)


def export_sync_logs(
    engine: Engine,
    company_id: uuid.UUID,
    out: str | os.PathLike[str],
    *,
    since: datetime | None = None,
    statuses: Sequence[str] = (),
    entity_types: Sequence[str] = (),
    chunk_size: int = 2000,
) -> int:
    """Write the company's sync log to `out` as CSV (header + one line per attempt) and return the row count.

    The file is replaced atomically: written to a temporary file in the same folder, flushed to disk and
    renamed over `out`. On any error the temporary file is removed and `out` is left as it was."""
    target = Path(out)
    _check_statuses(statuses)  # a bad filter fails before a file is created
    fd, temp = _open_temp_beside(target)
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(EXPORT_COLUMNS)
            for cells in iter_sync_log_rows(
                engine,
                company_id,
                since=since,
                statuses=statuses,
                entity_types=entity_types,
                chunk_size=chunk_size,
            ):
                writer.writerow(safe_row(cells))
                count += 1
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private (0600); keep the mode of the file being replaced, else 0644.
        os.chmod(temp, target.stat().st_mode & 0o777 if target.is_file() else 0o644)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    return count
