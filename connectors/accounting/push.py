"""Push app records to the connection's accounting system through its adapter: customers, then invoices,
payments and expenses, dependencies first.

Every entity type's lookups go out together before the first write (find-before-create by the natural key
for records without a link, and the current documents of linked records, which give the conflict check
and a minimal update), then batch writes of `write_chunk` records. Idempotency comes in layers: the entity
link; a deterministic idempotency key per (integration, entity, id, version, operation);
find-before-create; and a duplicate error after a lost response read as "already there: link it". A spent
call allowance defers records (they wait, they do not fail).

Every write attempt is a sync-log row, committed before the request goes out.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.accounting.adapter import AccountingAdapter, Lookup, Write, WriteResult
from connectors.accounting.dependencies import DependencyProblem, dependency_problems
from connectors.accounting.heartbeat import AttemptLeases
from connectors.accounting.lease import push_lease
from connectors.accounting.links import links_for
from connectors.accounting.outcome import PushResult
from connectors.accounting.push_record import PushRecorder
from connectors.accounting.push_select import select_rows
from connectors.accounting.push_types import (
    Op,
    PushOptions,
    Target,
    make_request_id,
    policy_for,
    resolve_conflict,
)
from connectors.accounting.specs import ORDER, SPECS, Deps, MappingError, Spec
from sierra_core.db.models import EntityLink, Invoice
from sierra_core.errors import SierraError

__all__ = ["Pusher"]

log = logging.getLogger("sierra_sync.push")


@dataclass
class _Sending:
    """One chunk's write: its ops, their attempt rows, and the answer on its way."""

    chunk: list[Op]
    attempts: list[uuid.UUID]
    answer: Future[tuple[dict[str, WriteResult], Exception | None]]


class _Unsent(SierraError):
    """The provider answered a write without a document (nothing to link)."""


class Pusher:
    """One push run for one company's accounting connection, through its adapter."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        adapter: AccountingAdapter,
        target: Target,
        options: PushOptions | None = None,
        *,
        write_chunk: int | None = None,
    ) -> None:
        self.sessions = sessions
        self.adapter = adapter
        self.target = target
        self.options = options or PushOptions()
        self.write_chunk = write_chunk or adapter.write_chunk  # records per write call
        self.title = adapter.title
        self.result = PushResult(dry_run=self.options.dry_run)
        self.rec = PushRecorder(sessions, target, self.options, self.result, adapter)
        self._done = 0
        self._prefetched: dict[str, tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]] = {}
        self._total = 0
        # Links read earlier in this push and still current: those of dependencies linked before the
        # push began (select_rows), and each selected type's own until its phase (the prefetch).
        self._dep_links: dict[str, dict[uuid.UUID, EntityLink]] = {}
        self._own_links: dict[str, dict[uuid.UUID, EntityLink]] = {}

    # ------------------------------------------------------------------ run

    def run(self, entity_types: Sequence[str] = ORDER, ids: Iterable[uuid.UUID] | None = None) -> PushResult:
        engine = self.sessions.kw["bind"]
        if self.options.lease_s is None or self.options.dry_run:
            with push_lease(engine, self.target.integration_id):
                return self._run(entity_types, ids)
        # The attempts the sweep claimed for us are ours from now on, also while we wait for the push lease.
        leases = AttemptLeases(self.sessions, self.options.lease_s)
        leases.add(self.options.claimed.values())
        self.rec.leases = leases
        with leases, push_lease(engine, self.target.integration_id):
            return self._run(entity_types, ids)

    def _run(self, entity_types: Sequence[str], ids: Iterable[uuid.UUID] | None) -> PushResult:
        t = self.target
        selected = select_rows(
            self.sessions, t.integration_id, t.company_id, t.settings, entity_types, ids, self._dep_links
        )
        self._total = sum(len(rows) for rows in selected.values())
        if self._stopping():
            return self.result
        try:
            if not self._sliced():  # sliced: each chunk's lookups go just before its write
                self._prefetch(selected)
        except Exception as err:
            kind = self.adapter.classify(err)
            if not kind.retryable and kind.budget_resumes_at is None:
                raise
            log.warning(
                "%s lookups failed (%s); each entity type retries its own",
                self.title,
                getattr(err, "code", None),
            )
        for entity_type, rows in selected.items():
            if self._stopping():
                return self.result  # claimed rows stay in progress: the retry sweep takes them again
            self._phase(SPECS[entity_type], rows)
        self.rec.close_unused_claims()
        return self.result

    def _stopping(self) -> bool:
        """True when the process is stopping: the push ends between two batch requests."""
        if self.options.should_stop is None or not self.options.should_stop():
            return False
        if not self.result.stopped:
            self.result.stopped = True
            log.info(
                "push stopped early (%s of %s records done): the next sync takes up the rest",
                self._done,
                self._total,
            )
        return True

    def _budget_spent(self) -> bool:
        """The allowance ran out earlier in this push and has not come back: the rest waits too (its
        dependencies were deferred, nothing can be sent)."""
        return self.result.resume_at is not None and self.adapter.remaining_budget() == 0

    def _deps(self, rows: Sequence[Any], spec: Spec) -> Deps:
        maps: dict[str, dict[uuid.UUID, str]] = {"customer": {}, "invoice": {}}
        problems: dict[tuple[str, uuid.UUID], DependencyProblem] = {}
        t = self.target
        with self.sessions() as session:
            for attr, dep_type in spec.depends_on:
                needed = {getattr(r, attr) for r in rows if getattr(r, attr)}
                known = self._dep_links.get(dep_type, {})
                found = {app_id: known[app_id] for app_id in needed if app_id in known}
                if len(found) < len(needed):  # linked in this push (or not yet): read them now
                    found.update(links_for(session, t.integration_id, dep_type, needed - set(found)))
                maps[dep_type] = {app_id: link.external_id for app_id, link in found.items()}
                unlinked = needed - set(found)
                found_problems = dependency_problems(
                    session, t.company_id, t.settings, dep_type, unlinked, self.result.failures, self.title
                )
                problems.update({(dep_type, app_id): p for app_id, p in found_problems.items()})
        return Deps(customers=maps["customer"], invoices=maps["invoice"], problems=problems, title=self.title)

    def _phase(self, spec: Spec, rows: list[Any]) -> None:
        counts = self.result.count(spec.entity_type)
        deps = self._deps(rows, spec)
        links = self._own_links.pop(spec.entity_type, None)
        if links is None:
            with self.sessions() as session:
                links = links_for(session, self.target.integration_id, spec.entity_type, [r.id for r in rows])
        creates: list[tuple[Any, dict[str, Any]]] = []
        updates: list[tuple[Any, EntityLink, dict[str, Any]]] = []
        voids: list[tuple[Any, EntityLink]] = []
        for row in rows:
            link = links.get(row.id)
            label = spec.label(row)
            if row.deleted_at is not None:
                self.rec.skip(
                    spec,
                    row,
                    f"deleted in the app; {self.title} keeps its copy (void or delete it there if intended)",
                    link,
                    acknowledge=True,
                )
                continue
            if link is not None and link.last_synced_version == row.version:
                self.rec.skip(spec, row, "unchanged since the last sync", link)
                continue
            if (
                link is not None
                and self.adapter.splits_payments
                and spec.entity_type == "payment"
                and "-" in link.external_id
            ):
                # One provider payment split over several invoices (pulled): edit it there.
                reason = (
                    f"part of a {self.title} payment split over several invoices; change it in {self.title}"
                )
                self.rec.skip(spec, row, reason, link, acknowledge=True)
                continue
            if self._budget_spent():
                assert self.result.resume_at is not None
                why = f"{self.title}'s call allowance for this connection is spent"
                self.rec.fail_unsent(
                    spec, row, label, _Unsent(why, code="budget_exhausted"), self.result.resume_at
                )
                continue
            if spec.model is Invoice and row.status == "void" and link is not None:
                voids.append((row, link))
                continue
            try:
                body = self.adapter.to_external(spec.entity_type, row, deps)
            except SierraError as err:  # the mapping names the fix (missing dependency, unmapped code)
                self.rec.fail_unsent(spec, row, label, err)
                continue
            if link is None:
                creates.append((row, body))
            else:
                updates.append((row, link, body))
        ops: list[Op] = []
        if self._sliced():
            self._write(spec, self._planned(spec, creates, updates))
        else:
            planned = next(self._planned(spec, creates, updates, voids=voids, whole=True), None)
            if planned is None:
                return
            ops.extend(planned)
        for row, link in voids:
            ops.append(
                Op(
                    row,
                    "void",
                    {},
                    self._request_id(spec, row, "void"),
                    link.external_id,
                    link.external_sync_token,
                )
            )
        if self.options.dry_run:
            for op in ops:
                self.rec.decide(spec, op.row, op.action, self._reason(op), op.external_id)
            return
        if not self._sliced():
            writes = [op for op in ops if op.action != "void"]
            self._write(
                spec, (writes[i : i + self.write_chunk] for i in range(0, len(writes), self.write_chunk))
            )
        for op in (op for op in ops if op.action == "void"):
            if self._stopping():
                break
            self._void(spec, op)
        log.info(
            "pushed %s: %s created, %s updated, %s linked, %s skipped, %s failed, %s retrying",
            spec.entity_type,
            counts.created,
            counts.updated,
            counts.linked,
            counts.skipped,
            counts.failed,
            counts.retrying,
        )

    def _sliced(self) -> bool:
        """Lookups, plan and write chunk by chunk (the adapter pipelines its writes, so each chunk's
        lookups go while the last chunk's write is answered); a dry run plans everything at once."""
        return self.adapter.pipelined_writes and not self.options.dry_run

    def _planned(
        self,
        spec: Spec,
        creates: list[tuple[Any, dict[str, Any]]],
        updates: list[tuple[Any, EntityLink, dict[str, Any]]],
        *,
        voids: Sequence[tuple[Any, EntityLink]] = (),
        whole: bool = False,
    ) -> Iterator[list[Op]]:
        """The operations of `creates` and `updates`, after their lookups: all in one list (`whole`), or
        `write_chunk` records at a time, each chunk's lookups made when the chunk is asked for. When
        lookups fail for a reason that waiting can fix, the records wait for the sweep (or the allowance)."""
        step = max(len(creates) + len(updates), 1) if whole else self.write_chunk
        items: list[tuple[Any, EntityLink | None, dict[str, Any]]] = [(r, None, b) for r, b in creates]
        items += [(r, link, b) for r, link, b in updates]
        for start in range(0, max(len(items), 1), step):
            part = items[start : start + step]
            new = [(r, b) for r, link, b in part if link is None]
            linked = [(r, link, b) for r, link, b in part if link is not None]
            try:
                found, current = self._lookup(spec, new, linked)
            except Exception as err:
                kind = self.adapter.classify(err)
                if (not kind.retryable and kind.budget_resumes_at is None) or not isinstance(
                    err, SierraError
                ):
                    raise  # e.g. the connection needs re-authorization: nothing per record can fix that
                # The provider is down past the HTTP retries (or the allowance is spent): these records
                # (and, planning all at once, this type's voids) wait for the sweep.
                waiting = [r for r, _, _ in part] + ([r for r, _ in voids] if whole else [])
                for row in waiting:
                    self.rec.fail_unsent(spec, row, spec.label(row), err, kind.budget_resumes_at)
                if whole:
                    return
                continue
            ops: list[Op] = []
            for row, body in new:
                ops.extend(self._plan_create(spec, row, body, found))
            for row, link, body in linked:
                ops.extend(self._plan_update(spec, row, link, body, current))
            yield ops

    # ------------------------------------------------------------------ lookups

    def _lookup(
        self,
        spec: Spec,
        creates: list[tuple[Any, dict[str, Any]]],
        updates: list[tuple[Any, EntityLink, dict[str, Any]]],
    ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """Existing documents for creates (by natural key) and current documents of linked rows (by id)."""
        if spec.entity_type in self._prefetched:
            return self._prefetched.pop(spec.entity_type)
        values = {self.adapter.lookup_value(spec.entity_type, row) for row, _ in creates}
        ids = {link.external_id for _, link, _ in updates}
        return self._lookup_many({spec.entity_type: (values, ids)})[spec.entity_type]

    def _lookup_many(
        self, wanted: dict[str, tuple[set[str | None], set[str]]]
    ) -> dict[str, tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]]:
        """One request for several entity types' lookups: `wanted` maps an entity type to (lookup values of
        records to create, external ids of linked records)."""
        asked = {
            t: Lookup(values=frozenset(v for v in values if v), ids=frozenset(ids))
            for t, (values, ids) in wanted.items()
        }
        found = self.adapter.lookup(asked, self.result)
        return {t: (f.by_value, f.by_id) for t, f in found.items()}

    def _prefetch(self, selected: dict[str, list[Any]]) -> None:
        """All entity types' lookups together, before the first write (as few requests as the adapter
        can make of them)."""
        wanted: dict[str, tuple[set[str | None], set[str]]] = {}
        with self.sessions() as session:
            for entity_type, rows in selected.items():
                links = links_for(session, self.target.integration_id, entity_type, [r.id for r in rows])
                self._own_links[entity_type] = links  # a phase writes only its own type's links
                live = [r for r in rows if r.deleted_at is None]
                values = {self.adapter.lookup_value(entity_type, r) for r in live if r.id not in links}
                ids = {
                    links[r.id].external_id
                    for r in live
                    if r.id in links and links[r.id].last_synced_version != r.version
                }
                wanted[entity_type] = (values, ids)
        self._prefetched = self._lookup_many(wanted)

    # ------------------------------------------------------------------ planning

    def _request_id(self, spec: Spec, row: Any, operation: str) -> str:
        return make_request_id(self.target.integration_id, spec.entity_type, row.id, row.version, operation)

    def _plan_create(
        self, spec: Spec, row: Any, body: dict[str, Any], found: dict[str, dict[str, Any]]
    ) -> list[Op]:
        value = self.adapter.lookup_value(spec.entity_type, row)
        existing = found.get(str(value)) if value else None
        if existing is None:
            return [Op(row, "create", body, self._request_id(spec, row, "create"))]
        meta = self.adapter.meta(spec.entity_type, existing)
        update = self.adapter.sparse_update(spec.entity_type, body, existing)
        if update is None:
            return [Op(row, "link", existing, "", meta.external_id, meta.version_token)]
        return [Op(row, "update", update, self._request_id(spec, row, "update"), meta.external_id)]

    def _plan_update(
        self, spec: Spec, row: Any, link: EntityLink, body: dict[str, Any], current: dict[str, dict[str, Any]]
    ) -> list[Op]:
        obj = current.get(link.external_id)
        if obj is None:
            self.rec.fail_unsent(
                spec,
                row,
                spec.label(row),
                MappingError(
                    f"{self.title} sync failed: {spec.label(row)} is linked to {self.title} "
                    f"{self.adapter.entity_name(spec.entity_type)} {link.external_id}, which {self.title} "
                    f"no longer returns (deleted or made inactive). Restore it in {self.title}, or unlink "
                    "the record to create it again.",
                    code=self.adapter.missing_code,
                ),
            )
            return []
        meta = self.adapter.meta(spec.entity_type, obj)
        token = meta.version_token
        if token is not None:  # a version token: any other token is a change there
            changed_there = link.external_sync_token is not None and token != link.external_sync_token
        else:  # no token: a later last-updated time is
            changed_there = (
                meta.last_updated is not None
                and link.external_updated_at is not None
                and meta.last_updated > link.external_updated_at
            )
        if changed_there:
            their_updated = meta.last_updated or row.updated_at
            policy = policy_for(self.target.settings, spec.entity_type)
            winner = resolve_conflict(policy, row.updated_at, their_updated)
            reason = (
                f"changed in both systems since the last sync; policy {policy}: "
                f"{'the app' if winner == 'app' else self.title} wins (app {row.updated_at.isoformat()}, "
                f"{self.title} {their_updated.isoformat()})"
            )
            self.result.count(spec.entity_type).conflicts += 1
            self.rec.decide(spec, row, "conflict", reason, link.external_id)
            log.info("conflict on %s: %s", spec.label(row), reason)
            if winner == "provider":
                return []  # the pull applies the provider's version to the app
        update = self.adapter.sparse_update(spec.entity_type, body, obj)
        if update is None:
            return [Op(row, "link", obj, "", link.external_id, token)]
        return [Op(row, "update", update, self._request_id(spec, row, "update"), link.external_id, token)]

    def _reason(self, op: Op) -> str:
        return {
            "create": f"not in {self.title} yet",
            "update": "changed in the app since the last sync",
            "link": f"already in {self.title} with the same content: link it",
            "void": "voided in the app",
        }[op.action]

    # ------------------------------------------------------------------ writing

    def _write(self, spec: Spec, chunks: Iterable[list[Op]]) -> None:
        """Write each chunk of operations (at most `write_chunk`): attempts committed, the request sent,
        its outcomes recorded. With an adapter that allows it (`pipelined_writes`), the next chunk's
        request is in flight while this chunk's outcomes are recorded (every request still goes out after
        its attempt rows are committed)."""
        pipelined = self.adapter.pipelined_writes
        pending: _Sending | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="push-write") as pool:
            pending_chunks = iter(chunks)
            while not self._stopping():
                chunk = next(pending_chunks, None)  # (sliced: this chunk's lookups go now)
                if chunk is None:
                    break
                if not chunk:
                    continue
                with self.sessions.begin() as session:
                    attempts = self.rec.open_attempts(session, spec, chunk)
                if not pipelined:  # in this thread, one chunk after the other
                    answer: Future[tuple[dict[str, WriteResult], Exception | None]] = Future()
                    answer.set_result(self._send(spec, chunk))
                    self._record(spec, _Sending(chunk, attempts, answer))
                    continue
                sending = _Sending(chunk, attempts, pool.submit(self._send, spec, chunk))
                if pending is not None:
                    self._record(spec, pending)  # while `sending` is in flight
                pending = sending
            if pending is not None:
                self._record(spec, pending)

    def _send(self, spec: Spec, chunk: list[Op]) -> tuple[dict[str, WriteResult], Exception | None]:
        writes = [
            Write(str(op.row.id), "create" if op.action == "create" else "update", op.body, op.request_id)
            for op in chunk
            if op.action != "link"
        ]
        if not writes:
            return {}, None
        try:
            return {res.key: res for res in self.adapter.write(spec.entity_type, writes, self.result)}, None
        except SierraError as err:
            return {}, err

    def _record(self, spec: Spec, sending: _Sending) -> None:
        results, batch_error = sending.answer.result()
        chunk, attempts = sending.chunk, sending.attempts
        duplicates: list[tuple[Op, uuid.UUID]] = []
        with self.sessions.begin() as session, self.rec.batched(session):
            for op, log_id in zip(chunk, attempts, strict=True):
                if op.action == "link":
                    self.rec.succeed(session, spec, op, log_id, op.body, "linked")
                    continue
                found = results.get(str(op.row.id))
                error = batch_error or (found.error if found is not None else None)
                if error is None and found is not None and found.document is not None:
                    outcome = "created" if op.action == "create" else "updated"
                    self.rec.succeed(session, spec, op, log_id, found.document, outcome)
                    continue
                kind = self.adapter.classify(error) if error is not None else None
                if kind is not None and kind.budget_resumes_at is not None:
                    why = f"{self.title}'s call allowance for this connection is spent"
                    self.rec.defer(session, spec, op.row, log_id, kind.budget_resumes_at, why)
                elif kind is not None and kind.duplicate and op.action == "create":
                    duplicates.append((op, log_id))
                else:
                    self.rec.failed(
                        session,
                        spec,
                        op.row,
                        log_id,
                        error or _Unsent(f"{self.title} returned no document", code="no_document"),
                    )
        if duplicates:
            self._link_duplicates(spec, duplicates)
        self._done += len(chunk)
        if self.options.progress:
            self.options.progress(self._done, self._total)

    def _link_duplicates(self, spec: Spec, pending: list[tuple[Op, uuid.UUID]]) -> None:
        """A duplicate on a create: usually our own earlier create whose answer was lost. Find it, link it."""
        found, _ = self._lookup(spec, [(op.row, op.body) for op, _ in pending], [])
        with self.sessions.begin() as session:
            for op, log_id in pending:
                value = self.adapter.lookup_value(spec.entity_type, op.row)
                existing = found.get(str(value)) if value else None
                taken = existing is not None and self._linked_elsewhere(
                    session, spec, self.adapter.meta(spec.entity_type, existing).external_id, op.row.id
                )
                if existing is not None and not taken:
                    self.rec.succeed(session, spec, op, log_id, existing, "linked")
                else:
                    what = "name" if spec.entity_type == "customer" else "number"
                    self.rec.failed(
                        session,
                        spec,
                        op.row,
                        log_id,
                        _Unsent(
                            f"{self.title} already has a record with this {what} ({value}) that belongs to "
                            "another Sierra record or list (vendors and employees share customers' names). "
                            f"Give {spec.label(op.row)} a distinct {what} and sync again.",
                            code=self.adapter.duplicate_code(spec.entity_type),
                        ),
                    )

    def _linked_elsewhere(self, session: Session, spec: Spec, external_id: str, app_id: uuid.UUID) -> bool:
        other = session.scalar(
            select(EntityLink.app_id).where(
                EntityLink.integration_id == self.target.integration_id,
                EntityLink.entity_type == spec.entity_type,
                EntityLink.external_id == external_id,
            )
        )
        return other is not None and other != app_id

    def _void(self, spec: Spec, op: Op) -> None:
        with self.sessions.begin() as session:
            log_id = self.rec.open_attempt(session, spec, op)
        try:
            obj = self.adapter.void(spec.entity_type, op.external_id or "", op.sync_token, op.request_id)
            error: SierraError | None = None
        except SierraError as err:
            obj, error = {}, err
        with self.sessions.begin() as session:
            if error is None:
                self.rec.succeed(session, spec, op, log_id, obj, "voided")
            else:
                self.rec.failed(session, spec, op.row, log_id, error)
