"""A per-process cache of verified API keys, so that most requests neither check nor count their key in
the database (PostgreSQL only; elsewhere every request runs `authenticate_and_count`, as without it).

When a key is checked, the same statement counts a *lease* of requests for it (`reserve=`, all of them
inside both rate-limit windows, or just the one): this request and up to `granted - 1` later ones of this
process, spent without I/O by `take` for at most `ttl` seconds. Leases are small next to what is left of the
limits (an eighth of the room, at most `max_lease`; one request only when fewer than `MIN_ROOM` are left),
so limits hold exactly: a process can never spend more than the database granted it, and near a limit every
request is counted one by one again. Unused requests go back to the key (`release_slots`) when a lease
expires, is dropped, or the process stops; a process killed outright leaves them counted as used.

Revocation is refused at once: a trigger (migration 0012) NOTIFYs `api_key_changes` with the key's id when
a key is revoked, deactivated, deleted, or its expiry, permissions, limits or company change; a thread of
this cache LISTENs and drops that key's lease. While it is not listening (starting, or its connection
lost) nothing is served from the cache, and a lease read before a notification is never stored after it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Engine

from connectors.apikeys import AuthResult, authenticate_and_count, day_start, hour_start, release_slots

__all__ = ["CHANNEL", "KeyCache"]

log = logging.getLogger("connectors.apikey_cache")

CHANNEL = "api_key_changes"  # spelled out in migration 0012's trigger function
MIN_ROOM = 64  # below this many requests left in a window, every request is counted on its own
_TICK = 0.25  # seconds between sweeps of expired leases (and the listener's wait for notifications)


@dataclass
class _Lease:
    result: AuthResult  # status "ok"; its rate holds the counts after the whole lease
    hour: datetime
    day: datetime
    deadline: float  # time.monotonic() past which the lease is not used
    used: int = 1  # the request that took the lease

    def room(self) -> int:
        rate = self.result.rate
        assert rate is not None
        return min(rate.hour_limit - rate.hour_count, rate.day_limit - rate.day_count)

    def unused(self) -> int:
        return self.result.granted - self.used

    def nth(self, n: int) -> AuthResult:
        """The result of the lease's n-th request (1-based): the counts as they were after it."""
        rate = self.result.rate
        assert rate is not None
        back = self.result.granted - n
        counts = dataclasses.replace(rate, hour_count=rate.hour_count - back, day_count=rate.day_count - back)
        return dataclasses.replace(self.result, rate=counts)


class KeyCache:
    """Verified keys by their SHA-256 (`hash_key`). `take` is for the event loop (no I/O); `authenticate`
    blocks (run it in a worker thread). `close()` stops the listener and gives back unused requests."""

    def __init__(self, engine: Engine, *, ttl: float = 2.0, max_lease: int = 100) -> None:
        self._engine = engine  # autocommit: each statement stands alone
        self.enabled = engine.dialect.name == "postgresql"
        self._ttl = ttl
        self._max_lease = max_lease
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()
        self._generation = 0  # bumped by every notification and every (re)connection of the listener
        self._listening = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    # --- requests --------------------------------------------------------------------------------------

    def take(self, key_hash: str, now: datetime) -> AuthResult | None:
        """An 'ok' result for the next request of a leased key, counted in its lease; None: ask the
        database (`authenticate`)."""
        if not self.enabled:
            return None
        self._ensure_listener()
        with self._lock:
            lease = self._leases.get(key_hash) if self._listening else None
            if lease is None or lease.unused() <= 0 or time.monotonic() > lease.deadline:
                return None
            expires = lease.result.expires_at
            if lease.hour != hour_start(now) or lease.day != day_start(now) or (expires and expires <= now):
                return None
            lease.used += 1
            return lease.nth(lease.used)

    def authenticate(self, key_hash: str, raw_key: str, now: datetime, ip: str | None) -> AuthResult:
        """Check and count `raw_key` in the database, taking a lease for the next requests when it can."""
        leased = self.take(key_hash, now)  # another thread renewed the lease while this one waited for a turn
        if leased is not None:
            return leased
        with self._lock:
            generation, listening = self._generation, self._listening
            previous = self._leases.get(key_hash)
        reserve = 1
        if listening and previous is not None and previous.room() >= MIN_ROOM:
            reserve = min(self._max_lease, previous.room() // 8)
        with self._engine.connect() as conn:
            result = authenticate_and_count(conn, raw_key, now, ip, reserve=reserve)
        if result.status != "ok":
            self._drop([key_hash])
            return result
        lease = _Lease(result, hour_start(now), day_start(now), time.monotonic() + self._ttl)
        first = lease.nth(1)  # before anyone else can take from it
        with self._lock:
            if self._listening and self._generation == generation:
                ended, self._leases[key_hash] = self._leases.get(key_hash), lease
            else:  # a key changed (or the listener restarted) meanwhile: the lease may be stale
                ended = lease
        self._give_back([ended] if ended is not None else [])
        return first

    # --- leases that end ---------------------------------------------------------------------------------

    def _drop(self, hashes: list[str]) -> None:
        with self._lock:
            gone = [lease for h in hashes if (lease := self._leases.pop(h, None)) is not None]
        self._give_back(gone)

    def _give_back(self, leases: list[_Lease]) -> None:
        """Return the unused requests of leases no longer in the cache (no one can take them any more)."""
        for lease in leases:
            unused = lease.unused()
            if unused <= 0:
                continue
            lease.used = lease.result.granted
            assert lease.result.key_id is not None
            try:
                with self._engine.connect() as conn:
                    release_slots(conn, lease.result.key_id, lease.hour, lease.day, unused)
            except Exception as exc:  # they stay counted as used: never more than the limit
                log.warning("api keys: %d unused request(s) not given back (%s)", unused, type(exc).__name__)

    def _sweep(self) -> None:
        now = time.monotonic()
        with self._lock:
            hashes = [h for h, lease in self._leases.items() if now > lease.deadline or lease.unused() <= 0]
        self._drop(hashes)

    def _forget_key(self, key_id: str) -> None:
        with self._lock:
            self._generation += 1
            hashes = [h for h, lease in self._leases.items() if str(lease.result.key_id) == key_id]
        self._drop(hashes)

    # --- the listener --------------------------------------------------------------------------------------

    def _ensure_listener(self) -> None:
        if self._thread is None and not self._stop.is_set():
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="api-key-cache", daemon=True)
                    self._thread.start()

    def _connect_kwargs(self) -> dict[str, Any]:
        _, kwargs = self._engine.dialect.create_connect_args(self._engine.url)
        return {"connect_timeout": 10, **kwargs, "autocommit": True}

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(**self._connect_kwargs()) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    with self._lock:
                        self._generation += 1
                        self._listening = True
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=_TICK):
                            self._forget_key(note.payload)
                        self._sweep()
            except psycopg.Error as err:
                first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]
                log.warning(
                    "api key cache: listener lost (%s); keys checked per request meanwhile", first_line
                )
            finally:
                with self._lock:
                    self._listening = False
                    hashes = list(self._leases)
                self._drop(hashes)
            self._stop.wait(1.0)

    def close(self, timeout: float = 10.0) -> None:
        """Stop listening and give back every lease's unused requests."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        with self._lock:
            hashes = list(self._leases)
        self._drop(hashes)
