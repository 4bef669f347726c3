"""No token, secret or Authorization header reaches a log record or a stored row: connect, refresh and a
sync against the sandbox with DEBUG logging, then scan everything for the values the sandbox issued."""

from __future__ import annotations

import json
import logging

from sqlalchemy import select

from connectors.kit.tokens import DbTokenSource
from connectors.quickbooks.client import QuickBooksClient
from sierra_core.db.models import EntityLink, Integration, IntegrationSyncLog


def test_connect_refresh_and_sync_leak_no_secret(connected, caplog):
    caplog.set_level(logging.DEBUG)
    import httpx

    with httpx.Client() as http:  # force a refresh through the 401 path as well
        source = DbTokenSource(
            connected.sessions, connected.connection.integration_id, connected.ring, connected.app, http
        )
        source.refresh_after_401(source.access_token())
        with QuickBooksClient(connected.app.api_base_url, connected.connection.realm_id, source) as client:
            client.read("CompanyInfo", connected.connection.realm_id)
    result = connected.push()
    assert result.counts["invoice"].created > 0
    issued = connected.qbo.admin("GET", "tokens")
    secrets = [t["token"] for t in issued["access_tokens"] + issued["refresh_tokens"]]
    secrets += [connected.app.client_secret, "Bearer "]
    assert len(secrets) >= 4

    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert caplog.records
    with connected.sessions() as s:
        rows = s.scalars(select(IntegrationSyncLog)).all()
        stored = json.dumps(
            [[r.request_payload, r.response_payload, r.error_message, r.error_details] for r in rows],
            default=str,
        )
        links = json.dumps(
            [[link.external_id, link.external_sync_token] for link in s.scalars(select(EntityLink))]
        )
        integration = s.get(Integration, connected.connection.integration_id)
        assert integration is not None
        columns = " ".join(str(v) for v in (integration.access_token, integration.refresh_token))
    assert rows
    for secret in secrets:
        assert secret not in logged, "a secret reached a log record"
        assert secret not in stored, "a secret reached a stored sync-log payload"
        assert secret not in links
        if secret != "Bearer ":
            assert secret not in columns  # tokens are stored sealed only
