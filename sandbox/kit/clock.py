"""The sandbox clock: real time plus an offset, or frozen; tests move it instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["Clock"]


class Clock:
    """Aware UTC `now()`; `advance()` simulates time passing (token expiry, 24 h grace, the CDC window)."""

    def __init__(self, start: datetime | None = None, frozen: bool = False) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("the clock start must be timezone-aware")
        self._frozen_at: datetime | None = start if frozen and start is not None else None
        if frozen and start is None:
            self._frozen_at = datetime.now(UTC)
        self._offset = timedelta(0) if start is None or frozen else start - datetime.now(UTC)

    @property
    def frozen(self) -> bool:
        """True when time only moves through `advance()`."""
        return self._frozen_at is not None

    def now(self) -> datetime:
        """The sandbox's current time (aware, UTC)."""
        if self._frozen_at is not None:
            return self._frozen_at
        return datetime.now(UTC) + self._offset

    @property
    def offset(self) -> float:
        """Seconds the sandbox's time is ahead of the real one (what a persisted sandbox keeps)."""
        return (self.now() - datetime.now(UTC)).total_seconds()

    def restore(self, offset: float) -> None:
        """Put the clock `offset` seconds ahead of real time, as a persisted sandbox was (never backwards)."""
        wanted = datetime.now(UTC) + timedelta(seconds=offset)
        if self._frozen_at is not None:
            self._frozen_at = max(self._frozen_at, wanted)
        else:
            self._offset = max(self._offset, timedelta(seconds=offset))

    def timestamp(self) -> float:
        """`now()` as Unix seconds."""
        return self.now().timestamp()

    def advance(self, seconds: float) -> datetime:
        """Move time forward by `seconds` (never backwards) and return the new now."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        if self._frozen_at is not None:
            self._frozen_at += timedelta(seconds=seconds)
        else:
            self._offset += timedelta(seconds=seconds)
        return self.now()
