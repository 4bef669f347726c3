"""Attempt leases kept alive while a worker runs: a daemon thread renews the lease of every attempt the
worker holds, every `lease_s / 4` seconds. If the process dies (kill -9, OOM, a lost machine) the renewals
stop, the leases pass within `lease_s`, and the next retry sweep recovers the attempts
(`synclog.claim_due_retries`). A thread, not the push loop, so a long provider wait (a 429's Retry-After)
never lets a live worker's lease lapse.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from sierra_core import synclog
from sierra_core.redact import redact_text

log = logging.getLogger("sierra_sync.sync.heartbeat")

__all__ = ["AttemptLeases"]


class AttemptLeases:
    """The attempts a worker holds, their leases renewed in the background while the context is open.

    `add` the log ids of attempts opened (or claimed) and `discard` them once finished; renewing a
    finished attempt is a no-op anyway (only `in_progress` rows are touched).
    """

    def __init__(self, sessions: sessionmaker[Session], lease_s: float, *, interval_s: float | None = None):
        if lease_s <= 0:
            raise ValueError("an attempt lease must be longer than 0 s")
        self.sessions = sessions
        self.lease_s = lease_s
        self.interval_s = interval_s if interval_s is not None else lease_s / 4
        self._ids: set[uuid.UUID] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.renewals = 0

    def add(self, log_ids: Iterable[uuid.UUID]) -> None:
        with self._lock:
            self._ids.update(log_ids)

    def discard(self, log_ids: Iterable[uuid.UUID]) -> None:
        with self._lock:
            self._ids.difference_update(log_ids)

    def held(self) -> set[uuid.UUID]:
        with self._lock:
            return set(self._ids)

    def renew(self) -> int:
        """Renew every held lease now; returns how many attempts were still in progress."""
        ids = self.held()
        if not ids:
            return 0
        with self.sessions.begin() as session:
            renewed = synclog.renew_leases(session, ids, self.lease_s)
        self.renewals += 1
        return renewed

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.renew()
            except Exception as err:  # a database hiccup: try again next beat, the lease has slack
                count = len(self.held())
                log.warning(
                    "could not renew the lease of %s sync attempt(s): %s", count, redact_text(str(err))
                )

    def __enter__(self) -> AttemptLeases:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="sync-attempt-leases", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(5.0, self.interval_s))
            self._thread = None
