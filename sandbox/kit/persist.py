"""Optional SQLite file behind the in-memory store, so a restarted sandbox keeps its books and tokens.

Write-through: every change is one upsert. Two tables: `kv` (realm settings, OAuth grants and tokens,
by namespace) and `records` (entities and their tombstones). Values are the sandbox's own JSON text.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

__all__ = ["Persistence"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (ns, key)
);
CREATE TABLE IF NOT EXISTS records (
    realm TEXT NOT NULL, entity TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, updated TEXT NOT NULL,
    next_line INTEGER NOT NULL, deleted INTEGER NOT NULL, PRIMARY KEY (realm, entity, id)
);
"""


class Persistence:
    """A small SQLite store; safe to call from one thread at a time (the server's loop)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        except sqlite3.Error as err:  # a directory, a file we may not open
            raise ValueError(f"the state file {self.path} cannot be opened ({err}); name a file") from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as err:
            self._db.close()
            raise ValueError(
                f"the state file {self.path} is not a sandbox state file ({err}); "
                "move it away or name another file"
            ) from None

    def put(self, ns: str, key: str, value: str) -> None:
        """Insert or replace one key of a namespace."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO kv (ns, key, value) VALUES (?, ?, ?)", (ns, key, value))

    def delete(self, ns: str, key: str) -> None:
        """Remove one key of a namespace."""
        with self._lock:
            self._db.execute("DELETE FROM kv WHERE ns = ? AND key = ?", (ns, key))

    def load_ns(self, ns: str) -> dict[str, str]:
        """Every key of a namespace."""
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM kv WHERE ns = ?", (ns,)).fetchall()
        return {str(k): str(v) for k, v in rows}

    def put_record(
        self, realm: str, entity: str, entity_id: str, data: str, updated: str, next_line: int, deleted: bool
    ) -> None:
        """Insert or replace one entity record."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO records (realm, entity, id, data, updated, next_line, deleted) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (realm, entity, entity_id, data, updated, next_line, int(deleted)),
            )

    def load_records(self) -> list[tuple[str, str, str, str, str, int, bool]]:
        """Every entity record of every realm."""
        with self._lock:
            rows = self._db.execute(
                "SELECT realm, entity, id, data, updated, next_line, deleted FROM records"
            ).fetchall()
        return [(str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), int(r[5]), bool(r[6])) for r in rows]

    def wipe(self) -> None:
        """Delete everything (POST /__sandbox/reset)."""
        with self._lock:
            self._db.execute("DELETE FROM kv")
            self._db.execute("DELETE FROM records")

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
