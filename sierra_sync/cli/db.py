"""`sierra-sync db ...`: migrate and seed the app database."""

from __future__ import annotations

import typer

from connectors.seed.generate import SeedSummary, seed
from sierra_core.db import migrate
from sierra_core.db.engine import redact_url
from sierra_core.errors import SierraError
from sierra_sync.cli.common import echo_json, open_engine, require_current_schema

app = typer.Typer(help="Migrate and seed the app database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    revision: str = typer.Option("head", help="Alembic revision to upgrade to."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Migrate $SIERRA_DATABASE_URL (default: SQLite file under ./.sierra/) to the newest schema."""
    engine = open_engine()
    before = migrate.current_revision(engine)
    migrate.upgrade(engine, revision)
    after = migrate.current_revision(engine)
    result = {"database": redact_url(engine.url), "from": before, "to": after}
    if as_json:
        echo_json(result)
    else:
        typer.echo(f"database {result['database']}: schema {before or 'empty'} -> {after}")


def print_seed_summary(summary: SeedSummary) -> None:
    typer.echo(
        f"seeded {summary.companies_created} compan{'y' if summary.companies_created == 1 else 'ies'} "
        f"({summary.companies_skipped} already present): "
        f"{summary.customers} customers, {summary.projects} projects, {summary.invoices} invoices "
        f"({summary.line_items} lines), {summary.payments} payments, {summary.expenses} expenses "
        f"in {summary.seconds:.2f} s"
    )
    if summary.invoices:
        typer.echo(f"invoiced ${summary.invoiced_total:,} of which ${summary.paid_total:,} paid")


@app.command("seed")
def seed_command(
    companies: int = typer.Option(2, min=1, help="How many companies to create."),
    invoices: int = typer.Option(500, min=0, help="Invoices per company."),
    seed_value: int = typer.Option(42, "--seed", help="Random seed: the same seed gives the same data."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Insert deterministic, realistic construction-company data. Companies already present are skipped."""
    engine = open_engine()
    require_current_schema(engine)
    try:
        summary = seed(engine, companies=companies, invoices=invoices, seed_value=seed_value)
    except ValueError as err:
        raise SierraError(str(err)) from None
    if as_json:
        echo_json(summary.as_dict())
    else:
        print_seed_summary(summary)
