"""Idempotency-Key semantics: same key and parameters replay the saved answer; other parameters fail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sandbox.stripe.errors import idempotency_in_progress, idempotency_mismatch


@dataclass
class SavedResponse:
    """The first answer given for a key: replayed byte for byte."""

    status: int
    body: bytes
    request_id: str


@dataclass
class _Entry:
    fingerprint: str
    created: int
    saved: SavedResponse | None = None  # None while the first request is still running


class IdempotencyStore:
    """Keys seen in the last `retention_hours` (Stripe keeps them 24 hours)."""

    def __init__(self, now: Callable[[], int], retention_hours: int = 24) -> None:
        self._now = now
        self._retention = retention_hours * 3600
        self._entries: dict[str, _Entry] = {}

    def begin(self, key: str, fingerprint: str) -> SavedResponse | None:
        """Claim `key` for a new request (None), or return the answer to replay; raise on misuse.

        A key may be scoped (`acct_…/key`: keys belong to the account acted on); errors show the bare key.
        """
        self._prune()
        entry = self._entries.get(key)
        if entry is None:
            self._entries[key] = _Entry(fingerprint, self._now())
            return None
        if entry.fingerprint != fingerprint:
            raise idempotency_mismatch(key.rpartition("/")[2] if key.startswith("acct_") else key)
        if entry.saved is None:
            raise idempotency_in_progress()
        return entry.saved

    def will_replay(self, key: str, fingerprint: str) -> bool:
        """Whether `begin` would replay a saved answer (the request applies nothing new)."""
        entry = self._entries.get(key)
        return entry is not None and entry.saved is not None and entry.fingerprint == fingerprint

    def finish(self, key: str, saved: SavedResponse) -> None:
        """Save the answer of the request that claimed `key`."""
        entry = self._entries.get(key)
        if entry is not None:
            entry.saved = saved

    def abandon(self, key: str) -> None:
        """Release a key whose request did not start executing (validation error): nothing is saved."""
        entry = self._entries.get(key)
        if entry is not None and entry.saved is None:
            del self._entries[key]

    def clear(self) -> None:
        """Forget every key."""
        self._entries.clear()

    def _prune(self) -> None:
        cutoff = self._now() - self._retention
        for key in [k for k, e in self._entries.items() if e.created < cutoff and e.saved is not None]:
            del self._entries[key]
