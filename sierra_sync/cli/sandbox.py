"""`sierra-sync sandbox`: run the local QuickBooks and Stripe sandboxes until stopped."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import typer

from sierra_core.errors import ConfigError, SierraError
from sierra_core.settings import get_settings
from sierra_core.shutdown import stop_on_signals


def _stripe_app(
    latency_ms: int,
    error_rate: float,
    drop_rate: float,
    state_file: Path | None = None,
    webhook_url: str | None = None,
) -> Any | None:
    """The Stripe sandbox app when `sandbox.stripe` provides `create_app(StripeSandboxOptions)`, else None.

    Hook: the Stripe sandbox is built separately; this starts it as soon as the package offers that API.
    """
    try:
        stripe = importlib.import_module("sandbox.stripe")
    except ImportError:
        return None
    create_app = getattr(stripe, "create_app", None)
    options_cls = getattr(stripe, "StripeSandboxOptions", None)
    if create_app is None or options_cls is None:
        return None
    from blocks.stripe import LOCAL_STRIPE_WEBHOOK_SECRET

    endpoints = (
        [stripe.WebhookEndpointOptions(webhook_url, LOCAL_STRIPE_WEBHOOK_SECRET)] if webhook_url else []
    )
    return create_app(
        options_cls(
            latency_ms=latency_ms,
            error_rate=error_rate,
            drop_rate=drop_rate,
            state_file=str(state_file) if state_file else None,
            webhook_endpoints=endpoints,
        )
    )


def sandbox(
    host: str = typer.Option(None, help="Interface to bind (default: SIERRA_HOST or 127.0.0.1)."),
    qbo_port: int = typer.Option(None, help="Port of the QuickBooks Online sandbox (default 8701)."),
    stripe_port: int = typer.Option(None, help="Port of the Stripe sandbox (default 8702)."),
    client_id: str = typer.Option("local-client", help="OAuth client id of the one developer app."),
    client_secret: str = typer.Option(
        "local-secret", help="OAuth client secret of that app (never printed)."
    ),
    latency_ms: int = typer.Option(0, help="Added latency per request, in milliseconds."),
    error_rate: float = typer.Option(0.0, help="Share of requests answered with a 5xx (0-1)."),
    drop_rate: float = typer.Option(0.0, help="Share of writes applied but whose response is dropped (0-1)."),
    state_file: Path | None = typer.Option(
        None, help="SQLite file that keeps the QuickBooks sandbox's books and tokens across restarts."
    ),
    webhook_url: str | None = typer.Option(None, help="POST QuickBooks eventNotifications to this URL."),
    stripe_state_file: Path | None = typer.Option(
        None, help="JSON file that keeps the Stripe sandbox's objects and events across restarts."
    ),
    stripe_webhook_url: str | None = typer.Option(
        None, help="POST Stripe events to this URL, signed with the local webhook secret."
    ),
) -> None:
    """Run the local QuickBooks Online and Stripe sandboxes until stopped (Ctrl-C or SIGTERM: exit 0)."""
    from sandbox.common.server import LocalServer
    from sandbox.quickbooks import SandboxOptions, create_app

    settings = get_settings()
    host = host or settings.host
    qbo_port = settings.qbo_port if qbo_port is None else qbo_port
    stripe_port = settings.stripe_port if stripe_port is None else stripe_port
    for name, rate in (("--error-rate", error_rate), ("--drop-rate", drop_rate)):
        if not 0.0 <= rate <= 1.0:
            raise ConfigError(f"{name} must be between 0 and 1, got {rate}")
    if latency_ms < 0:
        raise ConfigError(f"--latency-ms must be >= 0, got {latency_ms}")
    qbo_app = create_app(
        SandboxOptions(
            client_id=client_id,
            client_secret=client_secret,
            latency_ms=latency_ms,
            error_rate=error_rate,
            drop_rate=drop_rate,
            state_file=str(state_file) if state_file else None,
            webhook_url=webhook_url,
        )
    )
    with stop_on_signals() as stop:  # before anything starts: a stop during start-up is clean too
        qbo = _start(LocalServer(qbo_app, host=host, port=qbo_port), "QuickBooks", qbo_port)
        stop.at_exit(qbo.stop)
        typer.echo(f"QuickBooks Online sandbox: {qbo.url}  (client id: {client_id})")
        try:
            stripe_app = _stripe_app(latency_ms, error_rate, drop_rate, stripe_state_file, stripe_webhook_url)
        except ValueError as err:  # an unreadable state file
            raise ConfigError(str(err)) from None
        if stripe_app is not None:
            stripe = _start(LocalServer(stripe_app, host=host, port=stripe_port), "Stripe", stripe_port)
            stop.at_exit(stripe.stop)
            typer.echo(f"Stripe sandbox:            {stripe.url}")
        else:
            typer.echo("Stripe sandbox:            not available (sandbox.stripe has no create_app yet)")
        typer.echo("Press Ctrl-C to stop.")
        sys.stdout.flush()
        stop.wait()
        typer.echo("stopping")


def _start(server: Any, name: str, port: int) -> Any:
    try:
        return server.start()
    except RuntimeError:
        raise SierraError(
            f"the {name} sandbox could not listen on port {port}: is it already in use?"
        ) from None
