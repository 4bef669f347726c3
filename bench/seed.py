"""Seed throughput: how long 10,000 invoices (with lines, payments, expenses) take to insert.

python -m bench.seed                       # SQLite file in a temp dir (the issue's budget: < 30 s)
python -m bench.seed --url postgresql+psycopg://postgres@127.0.0.1:5432/test --schema bench_seed
"""

from __future__ import annotations

import argparse
import tempfile
import time

from sqlalchemy import text

from connectors.seed.generate import seed
from sierra_core.db import migrate
from sierra_core.db.engine import make_engine


def main() -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--schema", default="bench_seed", help="PostgreSQL schema to use (dropped first)")
    parser.add_argument("--companies", type=int, default=2)
    parser.add_argument("--invoices", type=int, default=5000, help="per company")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/bench.db"
        if url.startswith("postgresql"):
            admin = make_engine(url)
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {args.schema} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {args.schema}"))
            url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{args.schema}"
        engine = make_engine(url)
        t0 = time.perf_counter()
        migrate.upgrade(engine)
        migrated = time.perf_counter() - t0
        summary = seed(engine, companies=args.companies, invoices=args.invoices)
        engine.dispose()
        if args.url and args.url.startswith("postgresql"):
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {args.schema} CASCADE"))
    rows = summary.customers + summary.projects + summary.invoices + summary.line_items
    rows += summary.payments + summary.expenses
    print(f"database: {engine.dialect.name}")
    print(f"migrate: {migrated:.2f} s")
    print(
        f"seed: {summary.invoices} invoices ({summary.line_items} lines, {summary.payments} payments, "
        f"{summary.expenses} expenses, {summary.customers} customers) = {rows} rows "
        f"in {summary.seconds:.2f} s "
        f"({summary.invoices / summary.seconds:,.0f} invoices/s)"
    )


if __name__ == "__main__":
    main()
