"""In-memory object store: Stripe objects by id, newest first per kind, with Stripe-style ids."""

from __future__ import annotations

import copy
import random
import string
from typing import Any

from sandbox.stripe.errors import resource_missing

JSON = dict[str, Any]
_ALPHABET = string.ascii_letters + string.digits


class ObjectStore:
    """Holds every object the sandbox made; objects are plain JSON dicts, rendered by deep copy."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._objects: dict[str, JSON] = {}
        self._seq: dict[str, int] = {}
        self._counter = 0
        self.aliases: dict[str, str] = {}  # placeholder id -> real id (admin: POST /__sandbox/aliases)

    def new_id(self, prefix: str, length: int = 24) -> str:
        """A fresh id such as `pi_3Qx…`, unique in this store."""
        while True:
            candidate = f"{prefix}_{''.join(self._rng.choice(_ALPHABET) for _ in range(length))}"
            if candidate not in self._objects:
                return candidate

    def token(self, length: int) -> str:
        """Random letters and digits (client secrets, fingerprints)."""
        return "".join(self._rng.choice(_ALPHABET) for _ in range(length))

    def add(self, obj: JSON) -> JSON:
        """Store a new object (it must have `id` and `object`) and return it."""
        self._counter += 1
        self._objects[obj["id"]] = obj
        self._seq[obj["id"]] = self._counter
        return obj

    def resolve(self, object_id: str) -> str:
        """The real id behind an alias (fixtures written with stripe-mock's placeholder ids), else the id."""
        return self.aliases.get(object_id, object_id)

    def find(self, object_id: str) -> JSON | None:
        """The stored object with this id (or alias), whatever its kind, or None."""
        return self._objects.get(self.resolve(object_id))

    def get(self, kind: str, object_id: str, param: str = "id") -> JSON:
        """The stored object of this kind, or Stripe's 404 `No such <kind>`."""
        obj = self.find(object_id)
        if obj is None or obj.get("object") != kind or obj.get("deleted"):
            raise resource_missing(kind, object_id, param)
        return obj

    def all(self, kind: str) -> list[JSON]:
        """Objects of this kind, newest first (by `created`, then by insertion)."""
        found = [o for o in self._objects.values() if o.get("object") == kind and not o.get("deleted")]
        found.sort(key=lambda o: (o.get("created", 0), self._seq[o["id"]]), reverse=True)
        return found

    def remove(self, object_id: str) -> None:
        """Forget an object entirely (event retention)."""
        self._objects.pop(object_id, None)
        self._seq.pop(object_id, None)

    def clear(self) -> None:
        """Forget everything."""
        self._objects.clear()
        self._seq.clear()
        self.aliases.clear()

    def export(self) -> list[JSON]:
        """Every object in insertion order (what `restore` takes back)."""
        return [self._objects[i] for i in sorted(self._objects, key=self._seq.__getitem__)]

    def restore(self, objects: list[JSON]) -> None:
        """Add `objects` (an `export()`) after what the store holds, keeping their order."""
        for obj in objects:
            if obj.get("id") not in self._objects:
                self.add(obj)


def snapshot(obj: JSON) -> JSON:
    """A deep copy: what a response or an event carries, detached from later changes."""
    return copy.deepcopy(obj)
