"""rotate-tokens and health-check as Prefect runs them, against the QBO sandbox and both dialects."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from blocks.loader import token_keys
from connectors.kit.tokens import refresh_context
from flows.operations import health_check, rotate_tokens
from flows.push import push_to_quickbooks
from sierra_core.crypto import Keyring
from sierra_core.db.models import Integration, IntegrationHealth, IntegrationSyncLog
from sierra_core.db.models.base import table_of
from sierra_core.db.types import utcnow
from sierra_sync.cli.main import main


def _integration(sessions: sessionmaker[Session]) -> Integration:
    with sessions() as s:
        row = s.scalars(select(Integration)).one()
        s.expunge(row)
        return row


def _set(sessions, **values) -> None:
    t = table_of(Integration)
    with sessions.begin() as s:
        s.execute(update(t).values(**values))


def test_rotate_tokens_refreshes_due_tokens_and_rotates_an_old_key(flow_env):
    sessions = flow_env.sessions
    _set(sessions, expires_at=utcnow() + timedelta(minutes=3))
    before = _integration(sessions)
    assert before.token_key_id == "k1"  # the key block's only key dates from 2026-01-01: older than 60 days

    result = rotate_tokens()

    counts = result["counts"]
    assert (counts["checked"], counts["refreshed"], counts["key_rotated"]) == (1, 1, 1)
    assert counts["tokens_resealed"] == 1 and counts["values_left_on_old_keys"] == 0
    after = _integration(sessions)
    assert after.expires_at is not None and after.expires_at > utcnow() + timedelta(minutes=30)
    assert after.token_version > before.token_version
    block = token_keys()
    assert len(block.created) == 2
    newest = max(block.created, key=block.created.__getitem__)
    assert after.token_key_id == newest
    assert Keyring.key_id_of(after.refresh_token or "") == newest
    # Still a working connection: a push succeeds with the re-sealed, refreshed tokens.
    assert push_to_quickbooks(company=str(after.company_id), entity_types=["customer"])["failures"] == []

    second = rotate_tokens()  # nothing due, key young: nothing changes
    assert (second["counts"]["refreshed"], second["counts"]["key_rotated"]) == (0, 0)


def test_rotate_tokens_flags_connections_to_reauthorize(flow_env):
    sessions = flow_env.sessions
    _set(sessions, refresh_token_expires_at=utcnow() + timedelta(days=12))
    result = rotate_tokens()
    assert result["counts"]["reauthorize_soon"] == 1
    [warning] = result["warnings"]
    assert "re-authorize" in warning and "sierra-sync connect quickbooks" in warning
    row = _integration(sessions)
    assert row.status_message is not None and row.status_message.startswith("re-authorize:")
    assert row.connection_status == "connected"  # it still works until then


def test_health_check_stores_and_shows_the_verdict(flow_env, capsys):
    sessions = flow_env.sessions
    push_to_quickbooks(company=str(_integration(sessions).company_id))
    result = health_check()
    assert result["totals"] == {"healthy": 1, "degraded": 0, "failing": 0}
    with sessions() as s:
        [stored] = s.scalars(select(IntegrationHealth)).all()
        assert (stored.status, stored.token_status, stored.pending_retries) == ("healthy", "valid", 0)

    # A burst of failures and an expired authorization turn it failing, with the fix.
    with sessions.begin() as s:
        log = s.scalars(select(IntegrationSyncLog)).first()
        assert log is not None
        log.status = "failed"
    _set(sessions, connection_status="expired")
    result = health_check(notify=False)
    [row] = result["connections"]
    assert row["status"] == "failing"
    assert "sierra-sync connect quickbooks" in row["fix"]

    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:  # failing connections make a non-zero exit
        main(["health", "--json"])
    assert exit_.value.code == 1
    shown = json.loads(capsys.readouterr().out)["connections"]
    assert [c["status"] for c in shown] == ["failing"]
    assert "authorization expired" in shown[0]["findings"]


def test_rotate_tokens_marks_a_rejected_connection_for_reauthorization(flow_env):
    sessions = flow_env.sessions
    row = _integration(sessions)
    refresh = flow_env.ring.open(row.refresh_token, refresh_context(row.id))
    revoked = httpx.post(
        f"{flow_env.qbo.url}/v2/oauth2/tokens/revoke",
        json={"token": refresh},
        auth=("local-client", "local-secret"),
        timeout=10,
    )
    assert revoked.status_code == 200
    _set(sessions, expires_at=utcnow() - timedelta(minutes=1))

    result = rotate_tokens()

    assert (result["counts"]["rejected"], result["counts"]["refreshed"]) == (1, 0)
    assert any("rejected the refresh token" in w and "connect quickbooks" in w for w in result["warnings"])
    assert refresh not in json.dumps(result)  # secrets never in results or artifacts
    after = _integration(sessions)
    assert after.connection_status == "expired"
    assert health_check(notify=False)["totals"]["failing"] == 1
