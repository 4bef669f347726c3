"""The SQL a one-invoice push costs, pinned: the real-time path (`watch`) pushes one edited record at a
time, and every statement is CPU and a round trip inside its latency budget (issue 19). A change that
adds statements per push fails here; lower the pin when a change removes some."""

from __future__ import annotations

from sqlalchemy import event, exists, select

from sierra_core.db.models import EntityLink, Integration, IntegrationSyncLog, Invoice, Payment

REALTIME_TYPES = ("customer", "invoice", "payment", "expense")

# Statements of one push that updates one edited invoice (the other records unchanged since the last
# push), by dialect: PostgreSQL takes the push lease with two (try-lock, unlock), SQLite with a file lock.
PINNED = {"sqlite": 14, "postgresql": 16}


def test_one_invoice_push_statement_count_is_pinned(connected, engine):
    connected.push()  # everything in QuickBooks and linked
    with connected.sessions.begin() as s:
        invoice = s.scalars(  # one without payments: a payment changes the invoice in QuickBooks too
            select(Invoice)
            .join(EntityLink, EntityLink.app_id == Invoice.id)
            .where(~exists().where(Payment.invoice_id == Invoice.id))
            .order_by(Invoice.id)
            .limit(1)
        ).one()
        invoice_id = invoice.id
        invoice.memo = "edited"
        s.flush()
        version = invoice.version
        successes = s.scalar(select(Integration.successful_syncs))
        logs_before = len(s.scalars(select(IntegrationSyncLog.id)).all())

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.split("\n")[0][:100])

    event.listen(engine, "before_cursor_execute", count)
    try:
        result = connected.push(REALTIME_TYPES)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert result.counts["invoice"].updated == 1, result.decisions
    assert not result.failures
    with connected.sessions() as s:
        logs = s.scalars(select(IntegrationSyncLog).order_by(IntegrationSyncLog.started_at)).all()
        integration = s.scalars(select(Integration)).one()
        link = s.scalars(select(EntityLink).where(EntityLink.app_id == invoice_id)).one()
    assert len(logs) == logs_before + 1  # one audit row for the one attempt
    last = logs[-1]
    assert last.entity_id == invoice_id and last.status == "success" and last.duration_ms is not None
    assert last.external_entity_id == link.external_id and last.response_payload
    assert link.last_synced_version == version
    assert integration.successful_syncs == successes + 1
    assert len(statements) == PINNED[engine.dialect.name], "\n".join(statements)
