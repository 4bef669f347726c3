"""`sierra-sync sandbox`: run the local QuickBooks and Stripe sandboxes until stopped."""

from __future__ import annotations

import typer

from sierra_sync.errors import SierraError


def sandbox(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    qbo_port: int = typer.Option(8701, help="Port of the QuickBooks Online sandbox."),
    stripe_port: int = typer.Option(8702, help="Port of the Stripe sandbox."),
    client_id: str = typer.Option("local-client", help="OAuth client id of the one developer app."),
    client_secret: str = typer.Option("local-secret", help="OAuth client secret of that app."),
    latency_ms: int = typer.Option(0, help="Added latency per request, in milliseconds."),
    error_rate: float = typer.Option(0.0, help="Share of requests answered with a 5xx (0-1)."),
    drop_rate: float = typer.Option(0.0, help="Share of writes applied but whose response is dropped (0-1)."),
) -> None:
    """Run the local QuickBooks Online and Stripe sandboxes until stopped (Ctrl-C)."""
    raise SierraError("the sandboxes are not built yet (issue 3)")
