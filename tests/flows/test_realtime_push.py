"""The warm real-time push behind `sierra-sync watch`, against the QuickBooks sandbox: an app edit reaches
QuickBooks through the watcher and the per-company workers, with a `realtime` sync-log row and a Prefect
event naming the company; the client stays open between pushes and is reopened when the connection
changes."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import select, update

from connectors.watch import ChangeWatcher
from sierra_core.db.models import Integration, IntegrationSyncLog, Invoice
from sierra_sync.cli.watch import run_watch
from tasks import runtime
from tasks.realtime import EVENT_COMPLETED, WarmPush


def test_an_app_edit_reaches_quickbooks_through_the_watch_with_an_event(flow_env, engine):
    env = flow_env
    company_id = env.connection.company_id
    events: list[dict[str, Any]] = []
    push = WarmPush(runtime.Credentials(app=env.app, keyring=env.ring), emit=lambda **e: events.append(e))
    first = push(company_id)  # everything into QuickBooks (and the client opened)
    assert first["counts"]["invoice"]["created"] > 0
    warm = push._warm[company_id][0]
    with env.sessions() as s:
        invoice = s.scalars(select(Invoice).where(Invoice.company_id == company_id).limit(1)).one()

    watcher = ChangeWatcher(engine, debounce=0.05, poll_interval=0.1, stop_after=60)
    changed: list[float] = []

    def edit_when_ready() -> None:
        assert watcher.ready.wait(30)
        with env.sessions.begin() as s:
            row = s.get(Invoice, invoice.id)
            assert row is not None
            row.memo = "Change order 8: steel beams"
        changed.append(time.monotonic())

    pushed: list[float] = []

    def sync(company: str) -> object:
        result = push(company_id)
        pushed.append(time.monotonic())
        threading.Timer(1.0, watcher.stop).start()  # long enough to see a ping-pong if there were one
        return result

    editor = threading.Thread(target=edit_when_ready)
    editor.start()
    totals = run_watch(engine, watcher, sync)
    editor.join(10)
    assert (totals.batches, totals.synced, totals.failed) == (1, 1, [])
    assert pushed[0] - changed[0] < 5
    assert push._warm[company_id][0] is warm  # the same open client: nothing reopened per edit
    in_qbo = next(i for i in env.qbo_items("Invoice") if i.get("DocNumber") == invoice.invoice_number)
    assert in_qbo["CustomerMemo"]["value"] == "Change order 8: steel beams"
    with env.sessions() as s:
        logged = s.scalars(
            select(IntegrationSyncLog.status).where(
                IntegrationSyncLog.entity_id == invoice.id, IntegrationSyncLog.trigger == "realtime"
            )
        ).all()
    assert "success" in logged
    last = events[-1]
    assert last["event"] == EVENT_COMPLETED
    assert last["resource"]["prefect.resource.id"] == f"sierra-sync.company.{company_id}"
    assert last["resource"]["prefect.resource.name"]  # the company's name, for the UI
    assert last["payload"]["written"] == {"invoice": {"updated": 1}}

    # A changed connection (new settings) gets a fresh client on the next push.
    with env.sessions.begin() as s:
        row = s.get(Integration, env.connection.integration_id)
        assert row is not None
        settings = dict(row.settings or {})
        settings["sync_draft_invoices"] = not settings.get("sync_draft_invoices", False)
        s.execute(update(Integration).where(Integration.id == row.id).values(settings=settings))
    push(company_id)
    assert push._warm[company_id][0] is not warm
    push.close()
    assert push._warm == {}
