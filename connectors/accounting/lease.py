"""One push at a time per connection, across processes: later workers wait for the lease and then find
little or nothing left to do, instead of sending the same batches again (idempotent, but it would spend
the provider's API budget several times over).

PostgreSQL: a session advisory lock on a dedicated connection. SQLite (a single-host database by nature):
an exclusive `flock` on a lock file beside the database file.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

from sierra_core.errors import SierraError


class LeaseTimeoutError(SierraError):
    """Another worker held the connection's push lease for longer than we were willing to wait."""

    retryable = True


def _busy(timeout_s: float) -> str:
    return f"another worker has been pushing this company for over {timeout_s:.0f} s; try again later"


def _key(integration_id: uuid.UUID) -> int:
    digest = hashlib.sha256(f"sierra-sync:push:{integration_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


_TRY_LOCK = text("SELECT pg_try_advisory_lock(:k)")
_UNLOCK = text("SELECT pg_advisory_unlock(:k)")


@contextmanager
def push_lease(engine: Engine, integration_id: uuid.UUID, *, timeout_s: float = 900.0) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        # Autocommit: the lock is the session's, no transaction needs opening or committing around it.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            key = {"k": _key(integration_id)}
            # The usual case, nobody else pushing this connection: one statement. Only a held lock is
            # waited for, under a lock_timeout (set, then reset, on that path alone).
            waited = not conn.execute(_TRY_LOCK, key).scalar()
            if waited:
                conn.execute(
                    text("SELECT set_config('lock_timeout', :ms, false)"),
                    {"ms": f"{int(timeout_s * 1000)}ms"},
                )
                try:
                    conn.execute(text("SELECT pg_advisory_lock(:k)"), key)
                except Exception as err:  # a lock_timeout surfaces as OperationalError
                    conn.execute(text("RESET lock_timeout"))
                    raise LeaseTimeoutError(_busy(timeout_s)) from err
            try:
                yield
            finally:
                conn.execute(_UNLOCK, key)
                if waited:
                    conn.execute(text("RESET lock_timeout"))  # the pooled connection goes back as it came
        return
    database = engine.url.database or ""
    if not database or database == ":memory:":
        yield  # an in-memory database has a single process by definition
        return
    path = f"{database}.push-{integration_id}.lock"
    deadline = time.monotonic() + timeout_s
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LeaseTimeoutError(_busy(timeout_s)) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
