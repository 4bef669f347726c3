"""Optional JSON file behind the Stripe sandbox's memory, so a restarted sandbox keeps its objects.

What is kept: every object but webhook endpoints (events, customers, payment intents, charges, balance
transactions, payouts …), the clock offset, the test-card behaviour of payment methods and the payout
bookkeeping. Written whole (to a temporary file, then renamed) when it changed, at most once a second and
at shutdown; read once, when the sandbox starts.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from sandbox.stripe.state import SandboxState

__all__ = ["StateFile"]

SAVE_EVERY_S = 1.0
_NOT_KEPT = {"webhook_endpoint"}


class StateFile:
    """The state file of one sandbox: `load()` once, then `save()` (only writes what changed)."""

    def __init__(self, path: str | Path, state: SandboxState) -> None:
        self.path = Path(path)
        self.state = state
        self._written: bytes | None = None

    def _document(self) -> bytes:
        state = self.state
        objects = [o for o in state.store.export() if o.get("object") not in _NOT_KEPT]
        document: dict[str, Any] = {
            "version": 1,
            "clock_offset": state.clock.offset,
            "objects": objects,
            "card_behaviour": state.card_behaviour,
            "paid_out": state.paid_out,
        }
        return json.dumps(document, separators=(",", ":")).encode("utf-8")

    def load(self) -> int:
        """Read the file into the state (nothing when it does not exist); returns the objects read."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        try:
            document = json.loads(raw)
            objects = [o for o in document["objects"] if o.get("object") not in _NOT_KEPT]
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"the Stripe sandbox state file {self.path} is not readable: {err}") from None
        self.state.clock.restore(float(document.get("clock_offset", 0.0)))
        self.state.store.restore(objects)
        self.state.card_behaviour.update(document.get("card_behaviour") or {})
        self.state.paid_out.update(document.get("paid_out") or {})
        events = [o["created"] for o in objects if o.get("object") == "event"]
        if events:
            self.state._oldest_event = min(events)  # the state's own bookkeeping
        self._written = self._document()
        return len(objects)

    def save(self) -> bool:
        """Write the state when it changed since the last write; True when it wrote."""
        document = self._document()
        if document == self._written:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        temporary.write_bytes(document)
        os.replace(temporary, self.path)
        self._written = document
        return True

    async def keep_saving(self) -> None:
        """Save every SAVE_EVERY_S seconds until cancelled (the app's lifespan saves once more at the end)."""
        while True:
            await asyncio.sleep(SAVE_EVERY_S)
            self.save()
