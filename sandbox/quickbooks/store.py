"""Companies (realms) and their entities, in memory, optionally written through to SQLite.

Everything runs on the server's event loop thread, so no locks: a handler reads and writes the store
between two awaits. Entities are kept in wire form (dicts in QBO key order, Decimals with their exponent).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.kit.clock import Clock
from sandbox.kit.persist import Persistence
from sandbox.quickbooks.wire import dumps, loads

__all__ = ["Realm", "Record", "Store"]


@dataclass
class Record:
    """One entity: its wire form, when it last changed, its line-id counter; deleted ones are tombstones."""

    data: dict[str, Any]
    updated: datetime
    next_line: int = 1
    deleted: bool = False


@dataclass
class Realm:
    """One QuickBooks company."""

    id: str
    name: str
    timezone: str
    created: datetime
    next_id: int = 1
    next_addr: int = 1
    user_id: str = ""
    custom_fields: list[dict[str, Any]] = field(default_factory=list)
    company_addr: dict[str, Any] = field(default_factory=dict)
    home_currency: tuple[str, str] = ("USD", "United States Dollar")
    entities: dict[str, dict[str, Record]] = field(default_factory=dict)
    # requestid -> (expires_at_ts, status, body, content type); kept in memory only.
    requestids: dict[str, tuple[float, int, bytes, str]] = field(default_factory=dict)
    # Attachable id -> (content type, bytes) of uploaded files.
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    _tz: ZoneInfo | None = None

    @property
    def tz(self) -> ZoneInfo:
        """The company's time zone (offsets follow daylight saving)."""
        if self._tz is None:
            self._tz = ZoneInfo(self.timezone)
        return self._tz

    def table(self, entity: str) -> dict[str, Record]:
        """The records of one entity type (live ones and tombstones)."""
        table = self.entities.get(entity)
        if table is None:
            table = self.entities[entity] = {}
        return table

    def get(self, entity: str, entity_id: str) -> Record | None:
        """A live record, or None (missing or deleted)."""
        rec = self.entities.get(entity, {}).get(entity_id)
        if rec is None or rec.deleted:
            return None
        return rec

    def live(self, entity: str) -> Iterator[Record]:
        """Every live record of one entity type."""
        for rec in self.entities.get(entity, {}).values():
            if not rec.deleted:
                yield rec

    def take_id(self) -> str:
        """The next entity id: one counter per company, shared by every entity type (as QBO does)."""
        value = self.next_id
        self.next_id += 1
        return str(value)

    def claim_id(self, entity_id: str) -> None:
        """Keep the counter above an explicitly seeded numeric id."""
        if entity_id.isdigit() and len(entity_id) <= 7:
            self.next_id = max(self.next_id, int(entity_id) + 1)

    def take_addr_id(self) -> str:
        """The next PhysicalAddress id."""
        value = self.next_addr
        self.next_addr += 1
        return str(value)

    def meta(self) -> dict[str, Any]:
        """Serializable settings of the realm (persistence and the admin API)."""
        return {
            "realm_id": self.id,
            "name": self.name,
            "timezone": self.timezone,
            "created": self.created.isoformat(),
            "next_id": self.next_id,
            "next_addr": self.next_addr,
            "user_id": self.user_id,
            "custom_fields": self.custom_fields,
            "company_addr": self.company_addr,
            "home_currency": list(self.home_currency),
        }

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Realm:
        """Rebuild a realm (without entities) from `meta()`."""
        cur = meta.get("home_currency") or ["USD", "United States Dollar"]
        return cls(
            id=str(meta["realm_id"]),
            name=str(meta["name"]),
            timezone=str(meta["timezone"]),
            created=datetime.fromisoformat(str(meta["created"])),
            next_id=int(meta["next_id"]),
            next_addr=int(meta["next_addr"]),
            user_id=str(meta.get("user_id", "")),
            custom_fields=list(meta.get("custom_fields", [])),
            company_addr=dict(meta.get("company_addr", {})),
            home_currency=(str(cur[0]), str(cur[1])),
        )


class Store:
    """All realms; writes go through to `persistence` when there is one."""

    def __init__(self, clock: Clock, persistence: Persistence | None = None) -> None:
        self.clock = clock
        self.realms: dict[str, Realm] = {}
        self.persistence = persistence
        if persistence is not None:
            self._load(persistence)

    def _load(self, persistence: Persistence) -> None:
        for meta in persistence.load_ns("realm").values():
            realm = Realm.from_meta(loads(meta))
            self.realms[realm.id] = realm
        for key, value in persistence.load_ns("file").items():
            realm_id, _, attachable_id = key.partition("/")
            if realm_id in self.realms:
                stored = loads(value)
                self.realms[realm_id].files[attachable_id] = (
                    str(stored["content_type"]),
                    base64.b64decode(stored["data"]),
                )
        for realm_id, entity, entity_id, data, updated, next_line, deleted in persistence.load_records():
            realm_obj = self.realms.get(realm_id)
            if realm_obj is None:
                continue
            realm_obj.table(entity)[entity_id] = Record(
                data=loads(data),
                updated=datetime.fromisoformat(updated),
                next_line=next_line,
                deleted=deleted,
            )

    def new_realm(self, realm_id: str | None, name: str | None, timezone: str) -> Realm:
        """Create an empty realm (the caller seeds it). Ids look like Intuit's: 193514xxxxxxxxx."""
        if realm_id is None:
            while True:
                realm_id = "9341" + "".join(secrets.choice("0123456789") for _ in range(12))
                if realm_id not in self.realms:
                    break
        ZoneInfo(timezone)  # raises on an unknown zone
        realm = Realm(
            id=realm_id,
            name=name or f"Sandbox Company {realm_id[-4:]}",
            timezone=timezone,
            created=self.clock.now(),
            user_id="9130" + "".join(secrets.choice("0123456789") for _ in range(12)),
        )
        self.realms[realm_id] = realm
        self.save_realm(realm)
        return realm

    def save_realm(self, realm: Realm) -> None:
        """Persist the realm's settings and counters."""
        if self.persistence is not None:
            self.persistence.put("realm", realm.id, dumps(realm.meta()).decode())

    def save(self, realm: Realm, entity: str, entity_id: str) -> None:
        """Persist one record (after any change to it) and the realm's counters."""
        if self.persistence is None:
            return
        rec = realm.table(entity)[entity_id]
        self.persistence.put_record(
            realm.id,
            entity,
            entity_id,
            dumps(rec.data).decode(),
            rec.updated.isoformat(),
            rec.next_line,
            rec.deleted,
        )
        self.save_realm(realm)

    def save_file(self, realm: Realm, attachable_id: str, content_type: str, data: bytes) -> None:
        """Keep the file of an Attachable (and persist it)."""
        realm.files[attachable_id] = (content_type, data)
        if self.persistence is not None:
            value = {"content_type": content_type, "data": base64.b64encode(data).decode("ascii")}
            self.persistence.put("file", f"{realm.id}/{attachable_id}", dumps(value).decode())

    def drop_file(self, realm: Realm, attachable_id: str) -> None:
        """Forget the file of a deleted Attachable."""
        realm.files.pop(attachable_id, None)
        if self.persistence is not None:
            self.persistence.delete("file", f"{realm.id}/{attachable_id}")

    def reset(self) -> None:
        """Forget every realm (and wipe the state file)."""
        self.realms.clear()
        if self.persistence is not None:
            self.persistence.wipe()
