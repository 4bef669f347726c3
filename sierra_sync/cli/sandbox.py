"""`sierra-sync sandbox`: run every registered local sandbox (QuickBooks, Stripe, ...) until stopped, or the
one `--provider NAME` names (on `--port N`, over https with `--tls`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from sierra_core.errors import ConfigError, SierraError
from sierra_core.settings import get_settings
from sierra_core.shutdown import stop_on_signals


def sandbox(
    provider: str | None = typer.Option(
        None, help="Start only this provider's sandbox (quickbooks, stripe, ...); default: every one."
    ),
    port: int | None = typer.Option(
        None, min=0, max=65535, help="Port of the sandbox --provider names (0: a free one)."
    ),
    tls: bool = typer.Option(False, help="Serve https with a self-signed certificate made at start."),
    host: str = typer.Option(None, help="Interface to bind (default: SIERRA_HOST or 127.0.0.1)."),
    qbo_port: int = typer.Option(
        None, min=0, max=65535, help="Port of the QuickBooks Online sandbox (default 8701)."
    ),
    stripe_port: int = typer.Option(
        None, min=0, max=65535, help="Port of the Stripe sandbox (default 8702)."
    ),
    xero_port: int = typer.Option(None, min=0, max=65535, help="Port of the Xero sandbox (default 8704)."),
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
        None,
        help="JSON file that keeps the Stripe sandbox's objects and events across restarts "
        "(its Connect accounts and tokens go to <name>.connect.sqlite next to it).",
    ),
    stripe_webhook_url: str | None = typer.Option(
        None, help="POST Stripe events to this URL, signed with the local webhook secret."
    ),
    xero_state_file: Path | None = typer.Option(
        None, help="SQLite file that keeps the Xero sandbox's organisations, documents and tokens."
    ),
) -> None:
    """Run the local sandboxes until stopped (Ctrl-C or SIGTERM: exit 0)."""
    from blocks.stripe import LOCAL_STRIPE_WEBHOOK_SECRET
    from sandbox.common.server import LocalServer
    from sandbox.registry import SANDBOXES, SandboxSettings, UnknownSandboxError, get_sandbox

    settings = get_settings()
    host = host or settings.host
    for name, rate in (("--error-rate", error_rate), ("--drop-rate", drop_rate)):
        if not 0.0 <= rate <= 1.0:
            raise ConfigError(f"{name} must be between 0 and 1, got {rate}")
    if latency_ms < 0:
        raise ConfigError(f"--latency-ms must be >= 0, got {latency_ms}")
    if port is not None and provider is None:
        raise ConfigError("--port needs --provider NAME (each sandbox has its own port)")
    try:
        entries = [get_sandbox(provider)] if provider else list(SANDBOXES.values())
    except UnknownSandboxError as err:
        raise ConfigError(str(err)) from None
    ports = {
        "quickbooks": settings.qbo_port if qbo_port is None else qbo_port,
        "stripe": settings.stripe_port if stripe_port is None else stripe_port,
        "xero": settings.xero_port if xero_port is None else xero_port,
    }
    shared = SandboxSettings(
        client_id=client_id,
        client_secret=client_secret,
        latency_ms=latency_ms,
        error_rate=error_rate,
        drop_rate=drop_rate,
        state_file=str(state_file) if state_file else None,
        webhook_url=webhook_url,
        stripe_state_file=str(stripe_state_file) if stripe_state_file else None,
        stripe_webhook_url=stripe_webhook_url,
        stripe_webhook_secret=LOCAL_STRIPE_WEBHOOK_SECRET,
        xero_state_file=str(xero_state_file) if xero_state_file else None,
    )
    certificate = _certificate(host) if tls else None
    with stop_on_signals() as stop:  # before anything starts: a stop during start-up is clean too
        for entry in entries:
            where = port if port is not None else ports.get(entry.name, entry.default_port)
            try:
                app = entry.build(shared)
            except ValueError as err:  # an unreadable state file
                raise ConfigError(f"{entry.title} sandbox: {err}") from None
            server = _start(LocalServer(app, host=host, port=where, tls=certificate), entry.title, where)
            stop.at_exit(server.stop)
            suffix = f"  (client id: {client_id})" if entry.shows_client_id else ""
            typer.echo(f"{entry.title + ' sandbox:':<27}{server.url}{suffix}")
        if certificate is not None:
            typer.echo(f"TLS certificate (self-signed, trust it in clients): {certificate[0]}")
        typer.echo("Press Ctrl-C to stop.")
        sys.stdout.flush()
        stop.wait()
        typer.echo("stopping")


def _certificate(host: str) -> tuple[str, str]:
    from sandbox.kit.tls import self_signed

    files = self_signed(host)
    return files.certfile, files.keyfile


def _start(server: Any, name: str, port: int) -> Any:
    try:
        return server.start()
    except RuntimeError:
        raise SierraError(
            f"the {name} sandbox could not listen on port {port}: is it already in use?"
        ) from None
