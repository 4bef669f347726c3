"""Re-seal every stored credential with the keyring's newest key (after a key was added to the block).

Each row is rewritten with a compare-and-swap on `token_version`, so a refresh that lands in between is
never overwritten by re-sealed old tokens: the row is simply read again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.crypto import Keyring
from connectors.db.models import Integration, OAuthState
from connectors.db.models.base import table_of
from connectors.kit.connect import verifier_context
from connectors.kit.tokens import access_context, refresh_context


@dataclass
class RotationReport:
    key_id: str
    integrations_resealed: int = 0
    integrations_current: int = 0
    oauth_states_resealed: int = 0
    conflicts_retried: int = 0


def reseal_all(sessions: sessionmaker[Session], keyring: Keyring, *, max_tries: int = 5) -> RotationReport:
    report = RotationReport(key_id=keyring.current.key_id)
    t = table_of(Integration)
    with sessions() as session:
        ids = session.scalars(select(Integration.id).where(Integration.refresh_token.is_not(None))).all()
    for integration_id in ids:
        for _ in range(max_tries):
            with sessions.begin() as session:
                row = session.get(Integration, integration_id, populate_existing=True)
                if row is None or not row.refresh_token:
                    break
                if row.token_key_id == keyring.current.key_id and all(
                    Keyring.key_id_of(v or "") in (None, keyring.current.key_id)
                    for v in (row.access_token, row.refresh_token)
                ):
                    report.integrations_current += 1
                    break
                values: dict[str, object] = {"token_key_id": keyring.current.key_id}
                if row.access_token:
                    plain = keyring.open(row.access_token, access_context(row.id))
                    values["access_token"] = keyring.seal(plain, access_context(row.id))
                plain = keyring.open(row.refresh_token, refresh_context(row.id))
                values["refresh_token"] = keyring.seal(plain, refresh_context(row.id))
                done = session.execute(
                    update(t).where(t.c.id == row.id, t.c.token_version == row.token_version).values(**values)
                )
                if done.rowcount == 1:  # type: ignore[attr-defined]
                    report.integrations_resealed += 1
                    break
                report.conflicts_retried += 1
    with sessions.begin() as session:
        for state in session.scalars(select(OAuthState).where(OAuthState.consumed_at.is_(None))):
            if Keyring.key_id_of(state.code_verifier) != keyring.current.key_id:
                plain = keyring.open(state.code_verifier, verifier_context(state.state))
                state.code_verifier = keyring.seal(plain, verifier_context(state.state))
                report.oauth_states_resealed += 1
    return report
