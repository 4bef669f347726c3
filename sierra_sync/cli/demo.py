"""`sierra-sync demo`: the main job on the embedded default.

For now: migrate the SQLite file, seed two companies, print a summary of what the database holds.
(The demo issue extends it to the sandboxes, a local Prefect server and a full sync.)
"""

from __future__ import annotations

import typer
from sqlalchemy import func, select

from connectors.db import migrate
from connectors.db.engine import redact_url
from connectors.db.models import Company, Contact, Expense, Invoice, Payment
from connectors.seed.generate import seed
from sierra_sync.cli.common import echo_json, open_engine
from sierra_sync.cli.db import print_seed_summary


def demo(
    companies: int = typer.Option(2, min=1, help="Companies to seed."),
    invoices: int = typer.Option(500, min=0, help="Invoices per company."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Run the main job on the embedded default: migrate, seed, summarise."""
    engine = open_engine()
    migrate.upgrade(engine)
    summary = seed(engine, companies=companies, invoices=invoices)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Company.name,
                select(func.count()).where(Contact.company_id == Company.id).scalar_subquery(),
                select(func.count()).where(Invoice.company_id == Company.id).scalar_subquery(),
                select(func.coalesce(func.sum(Invoice.balance), 0))
                .where(Invoice.company_id == Company.id, Invoice.status != "void")
                .scalar_subquery(),
                select(func.count()).where(Payment.company_id == Company.id).scalar_subquery(),
                select(func.count()).where(Expense.company_id == Company.id).scalar_subquery(),
            ).order_by(Company.name)
        ).all()
    table = [
        {
            "company": r[0],
            "customers": r[1],
            "invoices": r[2],
            "open_balance": str(r[3]),
            "payments": r[4],
            "expenses": r[5],
        }
        for r in rows
    ]
    if as_json:
        echo_json({"database": redact_url(engine.url), "seed": summary.as_dict(), "companies": table})
        return
    typer.echo(f"database: {redact_url(engine.url)} (schema {migrate.current_revision(engine)})")
    print_seed_summary(summary)
    for row in table:
        typer.echo(
            f"  {row['company']}: {row['customers']} customers, {row['invoices']} invoices "
            f"(open ${row['open_balance']}), {row['payments']} payments, {row['expenses']} expenses"
        )
