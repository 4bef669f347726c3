"""Re-seal every stored secret with the keyring's newest key (after a key was added to the block), and
audit what is still sealed with older keys.

What the token keys seal (`SEALED`): the connections' OAuth tokens, the PKCE verifiers of authorizations,
and the signing secrets (current and previous) of outgoing webhook subscriptions. Each row is rewritten
with a compare-and-swap (`token_version` for connections, the old ciphertext elsewhere), so a refresh or a
secret rotation that lands in between is never overwritten by re-sealed old values: the row is read again.

`RotationReport.left_on_old_keys` counts, after the re-seal, every value still sealed with another key
than the newest; zero means the keys in `removable_key_ids` open nothing any more and may be removed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, select, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.kit.connect import verifier_context
from connectors.kit.tokens import access_context, refresh_context
from connectors.outgoing_webhooks import OUTGOING, secret_context
from sierra_core.crypto import DecryptionError, Keyring
from sierra_core.db.models import Integration, OAuthState, WebhookSubscription
from sierra_core.db.models.base import table_of

__all__ = ["SEALED", "RotationReport", "SealedColumn", "audit", "reseal_all"]


@dataclass(frozen=True)
class SealedColumn:
    """A column of values sealed by the token keys, and the sealing context (associated data) per row."""

    name: str
    table: Table
    column: str
    context: Callable[[Any], str]  # the row's key -> the sealing context
    key: str = "id"  # the column whose value the context is built from
    only: tuple[str, str] | None = None  # (column, value): rows of other kinds hold no sealed value here

    @property
    def key_column(self) -> Column[Any]:
        return self.table.c[self.key]

    def present(self) -> ColumnElement[bool]:
        """Rows of this column that hold a sealed value."""
        column = self.table.c[self.column]
        condition = column.is_not(None) & (column != "")
        if self.only is not None:
            condition = condition & (self.table.c[self.only[0]] == self.only[1])
        return condition


_INTEGRATIONS = table_of(Integration)
_STATES = table_of(OAuthState)
_SUBSCRIPTIONS = table_of(WebhookSubscription)
_OUTGOING = ("provider", OUTGOING)  # subscriptions made through the public API; others hold no sealed secret

SEALED: tuple[SealedColumn, ...] = (
    SealedColumn("integration access tokens", _INTEGRATIONS, "access_token", access_context),
    SealedColumn("integration refresh tokens", _INTEGRATIONS, "refresh_token", refresh_context),
    SealedColumn("authorization verifiers", _STATES, "code_verifier", verifier_context, key="state"),
    SealedColumn("webhook secrets", _SUBSCRIPTIONS, "webhook_secret", secret_context, only=_OUTGOING),
    SealedColumn(
        "previous webhook secrets", _SUBSCRIPTIONS, "previous_webhook_secret", secret_context, only=_OUTGOING
    ),
)


@dataclass
class RotationReport:
    key_id: str
    integrations_resealed: int = 0
    integrations_current: int = 0
    oauth_states_resealed: int = 0
    webhook_secrets_resealed: int = 0
    conflicts_retried: int = 0
    unreadable: int = 0  # values no key in the ring opens (sealed with a removed key, or tampered)
    # After the re-seal: values still sealed with an older key, per column (should be empty), and the
    # keys nothing is sealed with any more (safe to remove from the block when `left_on_old_keys` is 0).
    left_on_old_keys: int = 0
    left_by_column: dict[str, int] = field(default_factory=dict)
    removable_key_ids: list[str] = field(default_factory=list)


def audit(sessions: sessionmaker[Session], keyring: Keyring) -> dict[str, dict[str, int]]:
    """Per sealed column, how many stored values each key id sealed (read-only)."""
    out: dict[str, dict[str, int]] = {}
    with sessions() as session:
        for sealed in SEALED:
            column = sealed.table.c[sealed.column]
            counts: dict[str, int] = {}
            for value in session.scalars(select(column).where(sealed.present())):
                key_id = Keyring.key_id_of(value) or "?"
                counts[key_id] = counts.get(key_id, 0) + 1
            out[sealed.name] = counts
    return out


def _reseal_integrations(
    sessions: sessionmaker[Session], keyring: Keyring, report: RotationReport, max_tries: int
) -> None:
    t = _INTEGRATIONS
    newest = keyring.current.key_id
    with sessions() as session:
        ids = session.scalars(
            select(Integration.id).where(
                (Integration.refresh_token.is_not(None)) | (Integration.access_token.is_not(None))
            )
        ).all()
    for integration_id in ids:
        for _ in range(max_tries):
            with sessions.begin() as session:
                row = session.get(Integration, integration_id, populate_existing=True)
                if row is None or not (row.refresh_token or row.access_token):
                    break
                if row.token_key_id == newest and all(
                    Keyring.key_id_of(v or "") in (None, newest)
                    for v in (row.access_token, row.refresh_token)
                ):
                    report.integrations_current += 1
                    break
                values: dict[str, object] = {"token_key_id": newest}
                try:
                    if row.access_token:
                        plain = keyring.open(row.access_token, access_context(row.id))
                        values["access_token"] = keyring.seal(plain, access_context(row.id))
                    if row.refresh_token:
                        plain = keyring.open(row.refresh_token, refresh_context(row.id))
                        values["refresh_token"] = keyring.seal(plain, refresh_context(row.id))
                except DecryptionError:
                    report.unreadable += 1  # the connection must be re-authorized; the audit counts it
                    break
                done = session.execute(
                    update(t).where(t.c.id == row.id, t.c.token_version == row.token_version).values(**values)
                )
                if done.rowcount == 1:  # type: ignore[attr-defined]
                    report.integrations_resealed += 1
                    break
                report.conflicts_retried += 1


def _reseal_column(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    sealed: SealedColumn,
    report: RotationReport,
    max_tries: int,
) -> int:
    """Re-seal every value of one column not sealed with the newest key; compare-and-swap on the old
    ciphertext, so a value rewritten meanwhile (a new webhook secret) is read again, never overwritten."""
    column = sealed.table.c[sealed.column]
    key = sealed.key_column
    newest = keyring.current.key_id
    resealed = 0
    with sessions() as session:
        rows = session.execute(select(key, column).where(sealed.present())).all()
    for row_key, value in rows:
        for _ in range(max_tries):
            if Keyring.key_id_of(value) == newest:
                break
            context = sealed.context(row_key)
            try:
                fresh = keyring.seal(keyring.open(value, context), context)
            except DecryptionError:
                report.unreadable += 1  # counted as left on an old key by the audit
                break
            with sessions.begin() as session:
                done = session.execute(
                    update(sealed.table).where(key == row_key, column == value).values({sealed.column: fresh})
                )
                if done.rowcount == 1:  # type: ignore[attr-defined]
                    resealed += 1
                    break
                report.conflicts_retried += 1
                value = session.scalar(select(column).where(key == row_key))
                if value is None or value == "":
                    break
    return resealed


def reseal_all(sessions: sessionmaker[Session], keyring: Keyring, *, max_tries: int = 5) -> RotationReport:
    """Re-seal everything the token keys seal with the newest key, then audit what is left on older keys."""
    report = RotationReport(key_id=keyring.current.key_id)
    _reseal_integrations(sessions, keyring, report, max_tries)
    for sealed in SEALED:
        if sealed.table is _INTEGRATIONS:
            continue
        count = _reseal_column(sessions, keyring, sealed, report, max_tries)
        if sealed.table is _STATES:
            report.oauth_states_resealed += count
        else:
            report.webhook_secrets_resealed += count
    found = audit(sessions, keyring)
    newest = keyring.current.key_id
    used: set[str] = set()
    for name, counts in found.items():
        left = sum(n for key_id, n in counts.items() if key_id != newest)
        used.update(counts)
        if left:
            report.left_by_column[name] = left
    report.left_on_old_keys = sum(report.left_by_column.values())
    report.removable_key_ids = [k for k in keyring.key_ids if k != newest and k not in used]
    return report
