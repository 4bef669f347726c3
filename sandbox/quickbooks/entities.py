"""Entity operations shared by every type: create, read, full and sparse update, delete, void.

Each entity type is an `EntitySpec`: its key order (the order real responses use), what it requires, which
uniqueness rules apply, and a `compute` function (in `names.py` / `txn.py`) that validates a body and returns
the stored content with defaults, references and totals filled in. `Engine` does the rest: ids, SyncToken,
MetaData, 5010/6240/6140/610, tombstones for CDC, change events for webhooks, write-through persistence.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.quickbooks import faults
from sandbox.quickbooks.document import client_document, merge_sparse
from sandbox.quickbooks.store import Realm, Record, Store
from sandbox.quickbooks.wire import QboFault, meta_time, normalize_numbers

__all__ = ["SPECS", "URL_NAMES", "Ctx", "EntitySpec", "LineIds", "register"]

SYSTEM_KEYS = ("domain", "sparse", "Id", "SyncToken", "MetaData")
READ_ONLY = frozenset({"domain", "sparse", "Id", "SyncToken", "MetaData", "status"})


class LineIds:
    """The per-transaction line-id counter: every line (shown or not) takes one, as QBO's ids show."""

    def __init__(self, start: int) -> None:
        self.next = start

    def take(self) -> str:
        """The next line id."""
        value = self.next
        self.next += 1
        return str(value)


@dataclass
class Ctx:
    """What a compute or side-effect function may use: the realm, the time, the settings, change tracking."""

    store: Store
    realm: Realm
    now: datetime
    multicurrency: bool
    events: list[tuple[str, str, str, datetime]] = field(default_factory=list)
    # Per-request values a route hands to a compute function (e.g. the file of an /upload).
    scratch: dict[str, Any] = field(default_factory=dict)

    def notify(self, entity: str, entity_id: str, operation: str) -> None:
        """Record a change for webhooks, under Intuit's webhook name, unless the type has none."""
        spec = SPECS.get(entity)
        if spec is not None and not spec.webhook:
            return
        name = spec.webhook_name if spec is not None and spec.webhook_name else entity
        self.events.append((name, entity_id, operation, self.now))

    def touch(self, entity: str, entity_id: str) -> None:
        """Record a change made as a side effect (e.g. a payment lowering an invoice's Balance)."""
        rec = self.realm.get(entity, entity_id)
        if rec is None:
            return
        rec.data["SyncToken"] = str(int(rec.data.get("SyncToken", "0")) + 1)
        meta = rec.data.get("MetaData")
        if isinstance(meta, dict):
            meta["LastUpdatedTime"] = meta_time(self.now, self.realm.tz)
        rec.updated = self.now
        self.store.save(self.realm, entity, entity_id)
        self.notify(entity, entity_id, "Update")

    def save_quietly(self, entity: str, entity_id: str) -> None:
        """Persist a change that QBO does not version (e.g. a customer's running Balance)."""
        self.store.save(self.realm, entity, entity_id)


Compute = Callable[[Ctx, dict[str, Any], "Record | None", LineIds], dict[str, Any]]
Effect = Callable[[Ctx, str, "dict[str, Any] | None", "dict[str, Any] | None"], None]
Check = Callable[[Ctx, dict[str, Any]], None]
Writer = Callable[["Engine", Any, str, bool], dict[str, Any]]  # engine, body, operation, allow_dup


@dataclass(frozen=True)
class EntitySpec:
    """How one entity type behaves."""

    name: str
    order: tuple[str, ...]
    compute: Compute
    creatable: bool = True
    updatable: bool | None = None  # None: as creatable (Preferences: update only; TaxAgency: create only)
    deletable: bool = False
    voidable: bool = False
    void_by_update: bool = False  # also voided by `operation=update&include=void` (Payment, SalesReceipt)
    read_only: tuple[str, ...] = ()  # computed attributes a client may send; QBO ignores what it sends
    name_key: str | None = None  # field that must be unique (6240)
    name_group: tuple[str, ...] = ()  # entity types sharing that name list
    docnumber_unique: bool = False  # 6140 unless include=allowduplicatedocnum
    first_line_id: int = 1
    last_modified_by: bool = False
    total_count: bool = False  # queries show totalCount
    result_key: str | None = None  # key of query results when it differs from the name (Currency)
    sparse_keep: tuple[str, ...] = ()  # column queries keep these whole
    sparse_empty: tuple[str, ...] = ()  # ... show these as []
    sparse_id_only: tuple[str, ...] = ()  # ... show these as {"Id": ...}
    default_order: tuple[str, bool] = ("Id", False)  # (field, descending) when a query has no ORDERBY
    after_write: Effect | None = None  # side effects on other entities
    before_remove: Check | None = None  # refuses a delete/void (e.g. linked transactions)
    void: Callable[[Ctx, dict[str, Any]], dict[str, Any]] | None = None
    custom_write: Writer | None = None  # replaces create/update/delete (RecurringTransaction, ExchangeRate)
    query_view: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # what WHERE/ORDERBY look at
    # Rows every query page lists on top of MAXRESULTS (Intuit's pseudo tax codes, see names.py)
    always_listed: Callable[[dict[str, Any]], bool] | None = None
    aliases: tuple[str, ...] = ()  # more URL / query names (creditcardpayment -> CreditCardPaymentTxn)
    webhook: bool = True  # False: Intuit sends no webhook for this type
    webhook_name: str | None = None  # the entity name webhooks use when it differs (Currency)

    @property
    def can_update(self) -> bool:
        """Whether POST with an Id updates this type."""
        return self.creatable if self.updatable is None else self.updatable

    @property
    def key(self) -> str:
        """The key the entity sits under in responses and queries."""
        return self.result_key or self.name


SPECS: dict[str, EntitySpec] = {}
URL_NAMES: dict[str, str] = {}  # lower-case URL segment -> entity name


def register(spec: EntitySpec) -> EntitySpec:
    """Add an entity type (names.py and txn.py call this at import)."""
    SPECS[spec.name] = spec
    URL_NAMES[spec.name.lower()] = spec.name
    for alias in spec.aliases:
        URL_NAMES[alias.lower()] = spec.name
    return spec


def assemble(spec: EntitySpec, content: dict[str, Any], system: dict[str, Any]) -> dict[str, Any]:
    """The stored entity: content and system keys in the spec's key order, unknown keys at the end."""
    out: dict[str, Any] = {}
    for key in spec.order:
        if key in system:
            out[key] = system[key]
        elif key in content:
            out[key] = content[key]
    for key, value in content.items():
        if key not in out:
            out[key] = value
    for key, value in system.items():
        if key not in out:
            out[key] = value
    return out


class Engine:
    """Create, read, update, delete and void entities of one realm."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.realm = ctx.realm

    # ------------------------------------------------------------ helpers

    def _spec(self, entity: str) -> EntitySpec:
        spec = SPECS.get(entity)
        if spec is None:
            raise faults.unsupported(f"{entity}")
        return spec

    def _check_unique(
        self, spec: EntitySpec, data: dict[str, Any], self_id: str | None, allow_dup: bool
    ) -> None:
        if spec.name_key:
            name = data.get(spec.name_key)
            if isinstance(name, str) and name:
                wanted = name.casefold()
                for other in spec.name_group or (spec.name,):
                    other_spec = SPECS[other]
                    key = other_spec.name_key or spec.name_key
                    for rec in self.realm.live(other):
                        if other == spec.name and rec.data.get("Id") == self_id:
                            continue
                        value = rec.data.get(key)
                        if (
                            isinstance(value, str)
                            and value.casefold() == wanted
                            and rec.data.get("Active", True)
                        ):
                            raise faults.dup_name()
        if spec.docnumber_unique and not allow_dup:
            doc = data.get("DocNumber")
            if isinstance(doc, str) and doc:
                for rec in self.realm.live(spec.name):
                    if rec.data.get("DocNumber") == doc and rec.data.get("Id") != self_id:
                        raise faults.dup_docnumber(doc, spec.name, str(rec.data.get("Id")))

    def _meta(self, created: str | None) -> dict[str, Any]:
        stamp = meta_time(self.ctx.now, self.realm.tz)
        meta: dict[str, Any] = {"CreateTime": created or stamp}
        return meta | {"LastUpdatedTime": stamp}

    def _meta_for(self, spec: EntitySpec, created: str | None) -> dict[str, Any]:
        meta = self._meta(created)
        if spec.last_modified_by:
            meta = {
                "CreateTime": meta["CreateTime"],
                "LastModifiedByRef": {"value": self.realm.user_id},
                "LastUpdatedTime": meta["LastUpdatedTime"],
            }
        return meta

    @staticmethod
    def _clean(body: dict[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in body.items() if k not in READ_ONLY}

    def _finish(self, spec: EntitySpec, content: dict[str, Any]) -> dict[str, Any]:
        normalize_numbers(content)
        return content

    # ------------------------------------------------------------ operations

    def read(self, entity: str, entity_id: str) -> dict[str, Any]:
        """GET /{entity}/{id}: the entity, or 610."""
        self._spec(entity)
        rec = self.realm.get(entity, entity_id)
        if rec is None:
            raise faults.not_found()
        return rec.data

    def create(
        self,
        entity: str,
        body: Any,
        allow_dup_docnumber: bool = False,
        seed: bool = False,
    ) -> dict[str, Any]:
        """POST /{entity} without Id: validate, compute, store, return the new entity.

        `seed=True` (admin seeding) keeps an explicit Id, SyncToken and MetaData and skips `creatable`.
        """
        spec = self._spec(entity)
        if not isinstance(body, dict):
            raise faults.invalid_property("Property Name:request body must be a JSON object")
        if not spec.creatable and not seed:
            raise faults.unsupported(f"Create for {entity}")
        lines = LineIds(spec.first_line_id)
        document = client_document(body, spec.read_only)
        content = self._finish(spec, spec.compute(self.ctx, document, None, lines))
        entity_id = str(body["Id"]) if seed and body.get("Id") not in (None, "") else None
        if entity_id is not None and self.realm.get(entity, entity_id) is not None:
            raise faults.business(f"{entity} {entity_id} already exists")
        self._check_unique(spec, content, entity_id, allow_dup_docnumber or seed)
        if entity_id is None:
            entity_id = self.realm.take_id()
            while entity_id in self.realm.table(entity):  # a seeded id the counter skipped over
                entity_id = self.realm.take_id()
        else:
            self.realm.claim_id(entity_id)
        meta = self._meta_for(spec, None)
        if seed and isinstance(body.get("MetaData"), dict):
            meta = copy.deepcopy(body["MetaData"])
        system = {
            "domain": "QBO",
            "sparse": False,
            "Id": entity_id,
            "SyncToken": str(body.get("SyncToken", "0")) if seed else "0",
            "MetaData": meta,
        }
        data = assemble(spec, content, system)
        self.realm.table(entity)[entity_id] = Record(data=data, updated=self.ctx.now, next_line=lines.next)
        if spec.after_write is not None:
            spec.after_write(self.ctx, entity_id, None, data)
        self.ctx.store.save(self.realm, entity, entity_id)
        self.ctx.notify(entity, entity_id, "Create")
        return data

    def _existing(self, entity: str, body: dict[str, Any]) -> tuple[Record, str]:
        if body.get("Id") in (None, ""):
            raise faults.required("Id")
        if body.get("SyncToken") in (None, ""):
            raise faults.required("SyncToken")
        entity_id = str(body["Id"])
        rec = self.realm.get(entity, entity_id)
        if rec is None:
            raise faults.not_found()
        if str(body["SyncToken"]) != rec.data.get("SyncToken"):
            raise faults.stale()
        return rec, entity_id

    def update(self, entity: str, body: Any, allow_dup_docnumber: bool = False) -> dict[str, Any]:
        """POST /{entity} with Id + SyncToken: a full update, or a sparse one with `"sparse": true`."""
        spec = self._spec(entity)
        if not isinstance(body, dict):
            raise faults.invalid_property("Property Name:request body must be a JSON object")
        if not spec.can_update:
            raise faults.unsupported(f"Update for {entity}")
        rec, entity_id = self._existing(entity, body)
        old = rec.data
        if body.get("sparse") is True:
            merged = merge_sparse(old, body, spec.read_only)
        else:
            merged = client_document(body, spec.read_only)
        lines = LineIds(rec.next_line)
        content = self._finish(spec, spec.compute(self.ctx, merged, rec, lines))
        self._check_unique(spec, content, entity_id, allow_dup_docnumber)
        created = old.get("MetaData", {}).get("CreateTime") if isinstance(old.get("MetaData"), dict) else None
        system = {
            "domain": "QBO",
            "sparse": False,
            "Id": entity_id,
            "SyncToken": str(int(str(old.get("SyncToken", "0"))) + 1),
            "MetaData": self._meta_for(spec, created),
        }
        data = assemble(spec, content, system)
        rec.data = data
        rec.updated = self.ctx.now
        rec.next_line = lines.next
        if spec.after_write is not None:
            spec.after_write(self.ctx, entity_id, old, data)
        self.ctx.store.save(self.realm, entity, entity_id)
        self.ctx.notify(entity, entity_id, "Update")
        return data

    def delete(self, entity: str, body: Any) -> dict[str, Any]:
        """POST /{entity}?operation=delete: a tombstone remains for CDC."""
        spec = self._spec(entity)
        if not isinstance(body, dict):
            raise faults.invalid_property("Property Name:request body must be a JSON object")
        if not spec.deletable:
            raise faults.unsupported("Delete")
        rec, entity_id = self._existing(entity, body)
        if spec.before_remove is not None:
            spec.before_remove(self.ctx, rec.data)
        old = rec.data
        rec.deleted = True
        rec.updated = self.ctx.now
        rec.data = {
            "status": "Deleted",
            "domain": "QBO",
            "Id": entity_id,
            "MetaData": {"LastUpdatedTime": meta_time(self.ctx.now, self.realm.tz)},
        }
        if spec.after_write is not None:
            spec.after_write(self.ctx, entity_id, old, None)
        self.ctx.store.save(self.realm, entity, entity_id)
        self.ctx.notify(entity, entity_id, "Delete")
        return {"status": "Deleted", "domain": "QBO", "Id": entity_id}

    def void(self, entity: str, body: Any, by_update: bool = False) -> dict[str, Any]:
        """POST /{entity}?operation=void, or `operation=update&include=void` (`by_update`) for the types whose
        void Intuit documents that way: amounts zeroed, "Voided" put before PrivateNote, SyncToken + 1."""
        spec = self._spec(entity)
        if not isinstance(body, dict):
            raise faults.invalid_property("Property Name:request body must be a JSON object")
        if not spec.voidable or spec.void is None or (by_update and not spec.void_by_update):
            raise faults.unsupported("Void")
        rec, entity_id = self._existing(entity, body)
        if spec.before_remove is not None:
            spec.before_remove(self.ctx, rec.data)
        old = rec.data
        content = self._finish(spec, spec.void(self.ctx, self._clean(old)))
        created = old.get("MetaData", {}).get("CreateTime") if isinstance(old.get("MetaData"), dict) else None
        system = {
            "domain": "QBO",
            "sparse": False,
            "Id": entity_id,
            "SyncToken": str(int(str(old.get("SyncToken", "0"))) + 1),
            "MetaData": self._meta_for(spec, created),
        }
        data = assemble(spec, content, system)
        rec.data = data
        rec.updated = self.ctx.now
        if spec.after_write is not None:
            spec.after_write(self.ctx, entity_id, old, data)
        self.ctx.store.save(self.realm, entity, entity_id)
        self.ctx.notify(entity, entity_id, "Void")
        return data

    def write(
        self, entity: str, body: Any, operation: str | None, allow_dup: bool, include_void: bool = False
    ) -> dict[str, Any]:
        """Dispatch a POST /{entity}[?operation=...][&include=void] or a batch item by operation name."""
        op = (operation or "").lower()
        if include_void and op in ("", "update"):
            return self.void(entity, body, by_update=True)
        spec = self._spec(entity)
        if spec.custom_write is not None:
            return spec.custom_write(self, body, op, allow_dup)
        if op == "delete":
            return self.delete(entity, body)
        if op == "void":
            return self.void(entity, body)
        if op in ("", "create", "update"):
            if isinstance(body, dict) and body.get("Id") not in (None, "") and op != "create":
                return self.update(entity, body, allow_dup)
            if op == "update":
                raise faults.required("Id")
            return self.create(entity, body, allow_dup)
        raise QboFault("2010", "Request has invalid or unsupported property", f"operation={operation}", "")
