"""The shared steps of applying one provider document to the app, and their traces.

Linked documents update their app row through the ORM (so `version` moves) and the link then records that
version, so the push does not send the provider's own change back. A document whose version token the link
already holds was seen before (the cursor's lag window, or the push's own write) and is skipped without a
trace in the sync log. A row changed on both sides is a conflict, decided by the configured policy and
logged.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

from sqlalchemy.orm import Session

from connectors.accounting.adapter import AccountingAdapter
from connectors.accounting.links import link_by_external, save_link
from connectors.accounting.pull_types import PullDecision, PullFailure, PullOptions, PullResult
from connectors.accounting.push_types import Target, policy_for, resolve_conflict
from sierra_core import synclog
from sierra_core.db.models import Contact, EntityLink, Expense, Invoice, InvoiceLineItem, Payment
from sierra_core.db.types import utcnow

ZERO = Decimal("0.00")
# A void there is an accounting event, not an edit: it is applied even over unsynced app edits (which stay
# in the row: a void keeps the amounts).
VOID_WINS = (
    "voided in {title} while changed in the app; a void wins over unsynced app edits (kept in the row)"
)
M = TypeVar("M", Contact, Invoice, Payment, Expense)


class PullError(Exception):
    """One provider document cannot be applied; the message says what to fix."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        try:
            return old is not None and new is not None and Decimal(old) == Decimal(new)
        except (TypeError, ArithmeticError):
            return False
    return bool(old == new)


def assign(row: Any, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Set the columns that differ; returns {column: [old, new]}."""
    changes: dict[str, list[Any]] = {}
    for key, value in values.items():
        old = getattr(row, key)
        if not _same(old, value):
            setattr(row, key, value)
            changes[key] = [old, value]
    return changes


def assign_lines(invoice: Invoice, lines: Sequence[Mapping[str, Any]]) -> bool:
    """Bring the invoice's lines in line with the provider's, in place (position by position), so the unique
    (invoice, line_number) never sees two rows at once."""
    current = sorted(invoice.lines, key=lambda li: li.line_number)
    changed = False
    for i, values in enumerate(lines):
        if i < len(current):
            changed = bool(assign(current[i], values)) or changed
        else:
            invoice.lines.append(InvoiceLineItem(**values))
            changed = True
    for extra in current[len(lines) :]:
        invoice.lines.remove(extra)
        changed = True
    return changed


def token_seen(
    adapter: AccountingAdapter, entity_type: str, link: EntityLink, obj: Mapping[str, Any]
) -> bool:
    """The link already holds this version of the document (or a later one)."""
    meta = adapter.meta(entity_type, obj)
    theirs, ours = meta.version_token, link.external_sync_token
    if theirs is not None and ours is not None:
        a, b = str(theirs), str(ours)
        return int(a) <= int(b) if a.isdigit() and b.isdigit() else a == b
    updated = meta.last_updated
    return (
        updated is not None and link.external_updated_at is not None and updated <= link.external_updated_at
    )


@dataclass
class Steps:
    """What applying needs (one entity type's transaction, committed by the caller) and the steps every
    entity type shares."""

    session: Session
    adapter: AccountingAdapter
    target: Target
    options: PullOptions
    result: PullResult
    sync_type: str
    pending: Mapping[str, Mapping[str, dict[str, Any]]]  # entity type -> external id -> document of this read
    failed_times: list[datetime | None] = field(default_factory=list)

    # ------------------------------------------------------------------ shared steps

    @property
    def title(self) -> str:
        return self.adapter.title

    def label_of(self, entity_type: str, obj: Mapping[str, Any]) -> str:
        return self.adapter.describe(entity_type, obj)

    def ext_id(self, entity_type: str, obj: Mapping[str, Any]) -> str:
        return self.adapter.meta(entity_type, obj).external_id

    def _link(self, entity_type: str, external_id: str) -> EntityLink | None:
        return link_by_external(self.session, self.target.integration_id, entity_type, external_id)

    def _row(self, model: type[M], link: EntityLink, obj: Mapping[str, Any], entity_type: str) -> M:
        row = self.session.get(model, link.app_id)
        if row is None:
            raise PullError(
                f"{self.label_of(entity_type, obj)} is linked to a Sierra record that no longer exists; "
                "unlink it to import it again.",
                "app_record_missing",
            )
        return row

    def _seen(self, entity_type: str, row: Any, link: EntityLink, obj: Mapping[str, Any]) -> bool:
        if token_seen(self.adapter, entity_type, link, obj):
            self._skip(entity_type, obj, row.id, "already applied (same version)", counted=False)
            return True
        if row.deleted_at is not None:
            self._skip(entity_type, obj, row.id, f"deleted in the app; {self.title}'s change is not applied")
            return True
        return False

    def _resolve(self, entity_type: str, row: Any, obj: Mapping[str, Any]) -> tuple[bool, str]:
        """Both sides changed since the last sync: decide by policy. Returns (app wins, reason); when the
        app wins the decision is logged here, nothing is applied and the push sends the app's version."""
        their_updated = self.adapter.meta(entity_type, obj).last_updated or row.updated_at
        policy = policy_for(self.target.settings, entity_type)
        winner = resolve_conflict(policy, row.updated_at, their_updated)
        reason = (
            f"changed in both systems since the last sync; policy {policy}: "
            f"{'the app' if winner == 'app' else self.title} wins (app {row.updated_at.isoformat()}, "
            f"{self.title} {their_updated.isoformat()})"
        )
        self.result.bump(entity_type, "conflicts")
        if winner == "app":
            self._log(entity_type, row.id, obj, "conflict", reason + "; left for the push", None)
        return winner == "app", reason

    def _update(
        self,
        entity_type: str,
        row: Any,
        link: EntityLink,
        obj: Mapping[str, Any],
        values: Mapping[str, Any],
        lines: Sequence[Mapping[str, Any]] | None = None,
        *,
        key: str | None = None,
        conflict: str | None = None,
    ) -> None:
        """Apply the provider's values to a linked row. A `conflict` given means the caller already
        checked and logged it ("" for checked, no conflict)."""
        logged = conflict is not None
        if conflict is None:
            if self._seen(entity_type, row, link, obj):
                return
            if row.version != link.last_synced_version:
                app_wins, conflict = self._resolve(entity_type, row, obj)
                if app_wins:
                    return
        changes = assign(row, values)
        if lines is not None and assign_lines(row, lines):
            changes["lines"] = [None, list(lines)]
        if not changes:
            # Nothing to change in the app: remember their version, keep any unsynced app change for the push.
            self._save_link(entity_type, row, obj, key or link.external_id, version=link.last_synced_version)
            if conflict and not logged:
                self._log(entity_type, row.id, obj, "conflict", conflict + "; the values already agree", None)
            elif not conflict:
                self._skip(entity_type, obj, row.id, "already up to date")
            return
        action: Literal["update", "void"] = (
            "void" if values.get("status") == "void" and "status" in changes else "update"
        )
        reason = f"voided in {self.title}" if action == "void" else f"changed in {self.title}"
        if conflict:
            if not logged:
                self._log(entity_type, row.id, obj, "conflict", conflict, None)
            reason = f"{reason} ({conflict})"
        self._linked(entity_type, row, obj, action, reason, changes, key=key or link.external_id)

    def _linked(
        self,
        entity_type: str,
        row: Any,
        obj: Mapping[str, Any],
        action: Literal["create", "update", "link", "void"],
        reason: str,
        changes: Mapping[str, Any] | None,
        *,
        key: str | None = None,
    ) -> None:
        """Flush the row (its version moves), link it at that version, log and count the decision."""
        self.session.flush()
        self._save_link(entity_type, row, obj, key or self.ext_id(entity_type, obj), version=row.version)
        self._log(entity_type, row.id, obj, action, reason, changes)
        outcome = {"create": "created", "update": "updated", "link": "linked", "void": "voided"}[action]
        self.result.bump(entity_type, outcome)

    def _save_link(
        self, entity_type: str, row: Any, obj: Mapping[str, Any], key: str, *, version: int | None
    ) -> None:
        meta = self.adapter.meta(entity_type, obj)
        save_link(
            self.session,
            integration_id=self.target.integration_id,
            company_id=self.target.company_id,
            entity_type=entity_type,
            app_id=row.id,
            external_id=key,
            sync_token=meta.version_token,
            version=version,
            external_updated_at=meta.last_updated,
        )

    def _delete(
        self,
        entity_type: str,
        model: type[Any],
        link: EntityLink | None,
        obj: Mapping[str, Any],
        *,
        reason: str | None = None,
    ) -> None:
        """Soft-delete the linked row (its data stays) and mark the link deleted."""
        reason = reason or f"deleted in {self.title}"
        if link is None:
            self._skip(entity_type, obj, None, f"{reason}; never in the app")
            return
        if link.external_deleted_at is not None:
            self._skip(entity_type, obj, link.app_id, "deletion already applied", counted=False)
            return
        meta = self.adapter.meta(entity_type, obj)
        if not meta.deleted and token_seen(self.adapter, entity_type, link, obj):
            self._skip(entity_type, obj, link.app_id, "already applied (same version)", counted=False)
            return
        row = self.session.get(model, link.app_id)
        now = utcnow()
        when = meta.last_updated or now
        if row is not None and row.version != link.last_synced_version:
            reason += "; the app's unsynced changes stay in the deleted row"
        if row is not None and row.deleted_at is None:
            row.deleted_at = now
            self.session.flush()
        link.external_deleted_at = when
        link.external_updated_at = when
        link.last_synced_at = now
        if row is not None:
            link.last_synced_version = row.version
        if meta.version_token is not None:
            link.external_sync_token = meta.version_token
        self.session.flush()
        self._log(entity_type, link.app_id, obj, "delete", reason, {"deleted_at": [None, now]})
        self.result.bump(entity_type, "deleted")

    # ------------------------------------------------------------------ recording

    def _decide(
        self, entity_type: str, obj: Mapping[str, Any], app_id: uuid.UUID | None, action: str, reason: str
    ) -> None:
        self.result.decisions.append(
            PullDecision(
                entity_type,
                self.ext_id(entity_type, obj),
                app_id,
                self.label_of(entity_type, obj),
                action,
                reason,
            )
        )

    def _skip(
        self,
        entity_type: str,
        obj: Mapping[str, Any],
        app_id: uuid.UUID | None,
        reason: str,
        *,
        counted: bool = True,
    ) -> None:
        """A skip leaves no sync-log row. Objects seen before (same version) are not even counted: the
        lag window shows them again on every run."""
        if counted:
            self.result.bump(entity_type, "skipped")
            self._decide(entity_type, obj, app_id, "skip", reason)

    def _attempt(
        self, entity_type: str, obj: Mapping[str, Any], app_id: uuid.UUID | None, external_id: str | None
    ) -> uuid.UUID:
        """A pull attempt's sync-log row for `obj` (what the provider sent is its request payload)."""
        return synclog.start_attempt(
            self.session,
            integration_id=self.target.integration_id,
            company_id=self.target.company_id,
            sync_type=self.sync_type,
            direction="pull",
            trigger=self.options.trigger,
            entity_type=entity_type,
            entity_id=app_id,
            external_entity_id=external_id,
            request_payload={self.adapter.entity_name(entity_type): dict(obj)},
            flow_run_id=self.options.flow_run_id,
        )

    def _log(
        self,
        entity_type: str,
        app_id: uuid.UUID | None,
        obj: Mapping[str, Any],
        action: str,
        reason: str,
        changes: Mapping[str, Any] | None,
    ) -> None:
        qid = self.ext_id(entity_type, obj)
        log_id = self._attempt(entity_type, obj, app_id, qid)
        synclog.finish_success(
            self.session,
            log_id,
            external_entity_id=qid,
            response_payload={"decision": action, "reason": reason, "changes": _plain(changes)},
        )
        self._decide(entity_type, obj, app_id, action, reason)

    def _fail(self, entity_type: str, obj: Mapping[str, Any], text: str, code: str | None) -> None:
        label = self.label_of(entity_type, obj)
        prefix = f"{self.title} sync failed"
        message = text if text.startswith(prefix) else f"{prefix}: {label}: {text}"
        meta = self.adapter.meta(entity_type, obj)
        log_id = self._attempt(entity_type, obj, None, meta.external_id)
        # Not retryable in the sweep: the pull's cursor stays before this object, so the next pull retries it.
        synclog.finish_failure(
            self.session,
            log_id,
            error_code=code,
            error_message=message,
            retryable=False,
            error_details={"entity": label, "direction": "pull"},
        )
        self.result.bump(entity_type, "failed")
        self.result.failures.append(PullFailure(entity_type, meta.external_id, label, code, message))
        self._decide(entity_type, obj, None, "fail", message)
        self.failed_times.append(meta.last_updated if meta.external_id else None)


def _plain(changes: Mapping[str, Any] | None) -> Any:
    """Changes as JSON-safe values (ORM objects become their repr)."""
    if changes is None:
        return None
    out: dict[str, Any] = {}
    for key, value in changes.items():
        out[key] = value if key != "lines" else [None, "replaced"]
    return out
