"""`sierra-sync logs export`: a company's sync log as CSV (see connectors/synclog_export for the columns)."""

from __future__ import annotations

from pathlib import Path

import typer

from connectors.synclog_export import export_sync_logs, parse_since
from sierra_core.db.engine import session_factory
from sierra_sync.cli.common import echo_json, open_engine, require_current_schema, resolve_company

app = typer.Typer(help="Read the sync log (every sync attempt).", no_args_is_help=True)


@app.command("export")
def export(
    company: str = typer.Option(..., "--company", help="Company id or exact name."),
    out: Path = typer.Option(..., "--out", help="CSV file to write (replaced atomically if it exists)."),
    since: str | None = typer.Option(
        None, help="Only attempts started at or after this ISO date/time (UTC unless an offset is given)."
    ),
    status: list[str] = typer.Option(
        [],
        "--status",
        help="Only these statuses (repeatable): pending, in_progress, success, failed, retrying.",
    ),
    entity_type: list[str] = typer.Option(
        [], "--entity-type", help="Only these entity types (repeatable), e.g. invoice, customer."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Export the company's sync-log rows to CSV and print how many were written."""
    since_at = parse_since(since) if since is not None else None  # a bad value fails before any I/O
    engine = open_engine()
    require_current_schema(engine)
    with session_factory(engine)() as session:
        found = resolve_company(session, company)
        company_id, company_name = found.id, found.name
    rows = export_sync_logs(
        engine, company_id, out, since=since_at, statuses=status, entity_types=entity_type
    )
    if as_json:
        echo_json({"company_id": str(company_id), "company": company_name, "rows": rows, "out": str(out)})
    else:
        typer.echo(f"exported {rows} sync-log rows of {company_name} to {out}")
