"""The process-xero-events flow for real (Prefect test server, both dialects): stored Xero events of a
connected organisation are answered by one pull of its company, with the run's artifact; the pull itself
(the company's incremental-sync deployment, waited for) is replaced by a recorder here."""

from __future__ import annotations

import uuid
from typing import Any

from sierra_core import inbox
from sierra_core.inbox import NewEvent
from sierra_core.settings import get_settings
from tasks import runtime, xero_events
from tests import factories


def test_process_xero_events_pulls_the_company_once(
    db: Any, sessions: Any, prefect_api: str, monkeypatch: Any
) -> None:
    from flows.xero_events import process_xero_events

    monkeypatch.setenv("SIERRA_DATABASE_URL", db.url)
    get_settings.cache_clear()
    runtime.reset_engines()
    with sessions.begin() as s:
        company = factories.company(s)
        row = factories.integration(
            s,
            company.id,
            integration_type="xero",
            external_company_id="t-1",
            connection_status="connected",
            is_active=True,
        )
        stored = inbox.store_events(
            s,
            [
                NewEvent(
                    provider="xero",
                    event_id=f"xero:t-1:INVOICE:{n}",
                    event_type="xero.invoice.updated",
                    raw_payload="{}",
                    payload={},
                    company_id=company.id,
                    integration_id=row.id,
                )
                for n in range(2)
            ],
        )
        company_id = company.id
    pulled: list[uuid.UUID] = []

    def pull(cid: uuid.UUID) -> dict[str, Any]:
        pulled.append(cid)
        return {"flow_run": "fake-run"}

    monkeypatch.setattr(xero_events, "pull_company", pull)
    try:
        result = process_xero_events(inbox_ids=[str(s.event.id) for s in stored], debounce=0)
    finally:
        get_settings.cache_clear()
        runtime.reset_engines()
    assert pulled == [company_id]
    assert (result["pulls"], result["processed"], result["failed"]) == (1, 2, 0)
    assert result["pulled"] == [{"company_id": str(company_id), "flow_run": "fake-run"}]
