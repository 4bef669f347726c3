"""The request-log writer: rows from many threads all land, in far fewer INSERTs than rows; `flush` waits
for them; a database that refuses the rows costs one ERROR line that counts them, never an exception."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, func, select

from sierra_core.db.models import ApiRequestLog
from sierra_sync.web.api import requestlog
from sierra_sync.web.api.requestlog import RequestLogWriter


def _row(i: int) -> dict[str, Any]:
    return {
        "api_key_id": None,
        "company_id": None,
        "method": "GET",
        "path": f"/api/v1/projects/{i}",
        "query_params": {"limit": "5"},
        "status_code": 200,
        "response_time_ms": 3,
        "ip_address": "127.0.0.1",
        "user_agent": "writer-test",
        "rate_limit_exceeded": False,
        "error_code": None,
    }


def test_rows_from_many_threads_land_in_batches(engine: Engine) -> None:
    inserts: list[int] = []
    event.listen(
        engine,
        "before_cursor_execute",
        lambda _c, _cur, stmt, params, _ctx, many: (
            inserts.append(len(params) if many else 1)
            if stmt.startswith("INSERT INTO api_request_logs")
            else None
        ),
    )
    writer = RequestLogWriter(engine, max_batch=200)

    def burst(start: int) -> None:
        for i in range(start, start + 500):
            writer.add(_row(i))

    threads = [threading.Thread(target=burst, args=(n * 500,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert writer.flush()
    with engine.connect() as conn:
        paths = conn.execute(select(ApiRequestLog.path)).scalars().all()
        assert conn.execute(select(func.count()).select_from(ApiRequestLog)).scalar_one() == 2000
    assert sorted(paths) == sorted(f"/api/v1/projects/{i}" for i in range(2000))
    assert sum(inserts) == 2000
    assert max(inserts) <= 200
    assert len(inserts) < 2000 / 4  # batched: rows that queue during one INSERT go in the next
    writer.close()
    assert writer.flush()  # nothing running: nothing to wait for
    writer.add(_row(9999))  # a closed writer starts again on demand
    assert writer.flush()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ApiRequestLog)).scalar_one() == 2001
    writer.close()


def _count_inserts(engine: Engine) -> list[int]:
    inserts: list[int] = []
    event.listen(
        engine,
        "before_cursor_execute",
        lambda _c, _cur, stmt, params, _ctx, many: (
            inserts.append(len(params) if many else 1)
            if stmt.startswith("INSERT INTO api_request_logs")
            else None
        ),
    )
    return inserts


def test_rows_of_a_steady_trickle_are_gathered_into_one_insert(engine: Engine) -> None:
    """One request at a time (the queue empty between them): the rows of `linger` seconds share an INSERT,
    instead of an INSERT and a commit per row."""
    inserts = _count_inserts(engine)
    writer = RequestLogWriter(engine, linger=5.0)
    for i in range(10):
        writer.add(_row(i))
        time.sleep(0.01)  # the writer has taken the previous row off the queue meanwhile
    assert writer.flush()  # ends the batch being gathered: no wait for the rest of the 5 s
    assert sum(inserts) == 10
    assert len(inserts) == 1
    writer.close()


def test_flush_and_close_do_not_wait_for_the_linger(engine: Engine) -> None:
    writer = RequestLogWriter(engine, linger=60.0)
    writer.add(_row(1))
    assert writer.flush(timeout=10.0)  # False if it waited for the 60 s
    writer.add(_row(2))
    writer.close(timeout=10.0)
    assert writer._thread is not None and not writer._thread.is_alive()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ApiRequestLog)).scalar_one() == 2


def test_a_refused_batch_is_logged_once_and_the_writer_goes_on(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setattr(requestlog, "_RETRY_DELAYS", (0.0,))
    broken = create_engine(f"sqlite:///{tmp_path}/missing-dir/x.db")  # cannot be opened
    writer = RequestLogWriter(broken)
    with caplog.at_level(logging.WARNING, logger="sierra_sync.web.api"):
        for i in range(3):
            writer.add(_row(i))
        assert writer.flush()
        writer.add(_row(4))
        assert writer.flush()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors[0] == "api request log: 3 row(s) not written (OperationalError)"
    assert errors[-1] == "api request log: 1 row(s) not written (OperationalError)"
    writer.close()
