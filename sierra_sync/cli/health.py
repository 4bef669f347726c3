"""`sierra-sync health [--check] [--json]`: the health of every QuickBooks and Xero connection (`--check`
assesses from the database; the health-check flow also probes Xero organisations live)."""

from __future__ import annotations

from typing import Any

import typer
from sqlalchemy import Engine

from sierra_sync.cli.common import echo_json, open_engine, require_current_schema


def health(
    check: bool = typer.Option(
        False, "--check", help="Assess now (and store) instead of showing the last check."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Show healthy / degraded / failing per connection, with what to fix (exit 1 when one is failing)."""
    engine = open_engine()
    try:
        rows = _rows(engine, check)
    finally:
        engine.dispose()
    _show(rows, as_json)


def _rows(engine: Engine, check: bool) -> list[dict[str, Any]]:
    from connectors.ops import health as ops
    from sierra_core.db.engine import session_factory
    from sierra_core.db.types import utcnow

    require_current_schema(engine)
    sessions = session_factory(engine)
    now = utcnow()
    if check:
        with sessions.begin() as session:
            results = ops.assess(session, now)
            ops.store(session, results, now)
    with sessions() as session:
        stored = ops.latest(session)
        rows: list[dict[str, Any]] = [
            {
                "company": name,
                "status": h.status,
                "token": h.token_status,
                "last_sync_status": h.last_sync_status,
                "last_sync_at": h.last_sync_at.isoformat() if h.last_sync_at else None,
                "failure_rate_pct": round(100 * h.failure_rate, 2),
                "pending_retries": h.pending_retries,
                "open_failures": h.open_failures,
                "last_webhook_at": h.last_webhook_at.isoformat() if h.last_webhook_at else None,
                "findings": h.summary,
                "fix": "; ".join(str(r.get("fix", "")) for r in h.reasons),
                "checked_at": h.checked_at.isoformat(),
            }
            for name, h in stored
        ]
    return rows


def _show(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        echo_json({"connections": rows})
    elif not rows:
        typer.echo("no health check yet: run `sierra-sync health --check` or the health-check flow")
    else:
        width = max(len(str(r["company"])) for r in rows)
        head = f"{'company':<{width}}  {'status':<8}  {'token':<16}  {'last sync':<9}"
        typer.echo(f"{head}  fail%  retry  findings")
        for r in rows:
            typer.echo(
                f"{r['company']:<{width}}  {r['status']:<8}  {r['token']:<16}  "
                f"{r['last_sync_status'] or '-':<9}  {r['failure_rate_pct']:>5}  "
                f"{r['pending_retries']:>5}  {r['findings']}"
            )
            if r["fix"]:
                typer.echo(f"{'':<{width}}  fix: {r['fix']}")
    if any(r["status"] == "failing" for r in rows):
        raise typer.Exit(1)
