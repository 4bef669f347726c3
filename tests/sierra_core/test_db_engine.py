"""The engine's pool: a PostgreSQL connection that sat idle is pinged (and replaced when the server dropped
it) before anyone uses it; a recently used one is not pinged (no extra round trip per request)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from sierra_core.db import engine as engine_module
from sierra_core.db.engine import make_engine
from tests.conftest import PG_BASE_URL


def _terminate(pid: int) -> None:
    admin = make_engine(PG_BASE_URL)
    with admin.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one() is True
    admin.dispose()


def _backend_pid(eng: Engine) -> int:
    with eng.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_idle_connection_killed_by_the_server_is_replaced_before_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    eng = make_engine(PG_BASE_URL)
    try:
        first = _backend_pid(eng)
        _terminate(first)
        # The pooled connection is dead; the checkout ping notices and the pool opens a new one.
        second = _backend_pid(eng)
        assert second != first
    finally:
        eng.dispose()


def test_recently_used_connection_is_not_pinged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    eng = make_engine(PG_BASE_URL)
    pings: list[int] = []
    original = eng.dialect.do_ping

    def counted_ping(dbapi_conn: Any) -> bool:
        pings.append(1)
        return original(dbapi_conn)

    monkeypatch.setattr(eng.dialect, "do_ping", counted_ping)
    try:
        first = _backend_pid(eng)
        for _ in range(3):
            assert _backend_pid(eng) == first
        assert pings == []
        # Without a ping, a connection the server dropped a moment ago fails its next statement once.
        _terminate(first)
        with pytest.raises(OperationalError), eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert _backend_pid(eng) != first  # the pool was invalidated: the next checkout is fresh
    finally:
        eng.dispose()


def test_async_commit_engine_is_for_bookkeeping_only() -> None:
    durable = make_engine(PG_BASE_URL)
    bookkeeping = make_engine(PG_BASE_URL, async_commit=True)
    try:
        for _ in range(2):  # a new connection, then the same one back from the pool
            with bookkeeping.connect() as conn:
                assert conn.execute(text("SHOW synchronous_commit")).scalar_one() == "off"
            with durable.connect() as conn:
                assert conn.execute(text("SHOW synchronous_commit")).scalar_one() == "on"
    finally:
        durable.dispose()
        bookkeeping.dispose()
