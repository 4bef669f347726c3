"""Optional JSON file behind the Stripe sandbox's memory, so a restarted sandbox keeps its objects.

What is kept: every object but webhook endpoints (events, customers, payment intents, charges, balance
transactions, payouts …), the platform's and each connected account's, the clock offset, the test-card
behaviour of payment methods and the payout bookkeeping. Written whole (to a temporary file, then renamed)
when it changed, at most once a second and at shutdown; read once, when the sandbox starts. A file written
before connected accounts' objects were kept has none (`accounts` missing: nothing to restore).

Stripe Connect (the connected accounts, their grants, revocations and tokens) is kept by the kit's own
SQLite state file (`sandbox/kit/persist.py`, written through at each change), named after this one by
`connect_file` (`stripe.json` -> `stripe.connect.sqlite`): the kit's OAuth server loads and saves it itself,
and a SQLite database cannot live inside this JSON document. A JSON file with no such companion (from
before) loads with no connected accounts, as it did.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.stripe.accounts import PLATFORM_ACCOUNT
from sandbox.stripe.store import JSON, ObjectStore

if TYPE_CHECKING:
    from sandbox.stripe.state import SandboxState

__all__ = ["StateFile", "connect_file"]

SAVE_EVERY_S = 1.0
_NOT_KEPT = {"webhook_endpoint"}


def connect_file(state_file: str | Path) -> Path:
    """The kit's SQLite state file (Connect accounts, grants, tokens) next to the JSON `state_file`."""
    path = Path(state_file)
    return path.with_name(f"{path.stem}.connect.sqlite")


def _kept(store: ObjectStore) -> list[JSON]:
    return [o for o in store.export() if o.get("object") not in _NOT_KEPT]


class StateFile:
    """The state file of one sandbox: `load()` once, then `save()` (only writes what changed)."""

    def __init__(self, path: str | Path, state: SandboxState) -> None:
        self.path = Path(path)
        self.state = state
        self._written: bytes | None = None

    def _document(self) -> bytes:
        state = self.state
        document: dict[str, Any] = {
            "version": 1,
            "clock_offset": state.clock.offset,
            "objects": _kept(state.stores[PLATFORM_ACCOUNT]),
            "accounts": {a: _kept(store) for a, store in state.stores.items() if a != PLATFORM_ACCOUNT},
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
            accounts = {
                str(account): [o for o in kept if o.get("object") not in _NOT_KEPT]
                for account, kept in (document.get("accounts") or {}).items()
            }
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"the Stripe sandbox state file {self.path} is not readable: {err}") from None
        self.state.clock.restore(float(document.get("clock_offset", 0.0)))
        self.state.stores[PLATFORM_ACCOUNT].restore(objects)
        for account, kept in accounts.items():
            with self.state.acting_as(account):  # makes the account's store
                self.state.store.restore(kept)
            objects += kept
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
