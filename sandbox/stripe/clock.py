"""The sandbox clock: real time plus an offset that the admin API can move forward."""

from __future__ import annotations

import time


class SandboxClock:
    """Unix seconds as the sandbox sees them; `advance` simulates days passing (funds, payouts, retention)."""

    def __init__(self, start: int | None = None) -> None:
        self._offset = 0.0 if start is None else start - time.time()

    @property
    def offset(self) -> float:
        """Seconds the sandbox clock is ahead of the real one (kept by a persisted sandbox)."""
        return self._offset

    def restore(self, offset: float) -> None:
        """Set the offset of a persisted sandbox (never backwards: the larger of the two wins)."""
        self._offset = max(self._offset, offset)

    def now(self) -> int:
        """The current sandbox time in Unix seconds."""
        return int(time.time() + self._offset)

    def advance(self, seconds: float) -> int:
        """Move the clock forward (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self._offset += seconds
        return self.now()
