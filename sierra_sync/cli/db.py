"""`sierra-sync db ...`: migrate and seed the app database."""

from __future__ import annotations

import typer

app = typer.Typer(help="Migrate and seed the app database.", no_args_is_help=True)
