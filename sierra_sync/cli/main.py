"""Entry point of the `sierra-sync` command.

Sub-commands live in sibling modules, one concern each, and register themselves on `app` here.
Errors a user can cause are SierraError: printed as one line on stderr, exit status non-zero, no traceback.
"""

from __future__ import annotations

import os
import sys

import typer

from sierra_sync.errors import SierraError

app = typer.Typer(
    name="sierra-sync",
    help="Sierra Suites integrations: QuickBooks Online and Stripe sync on Prefect 3.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    # Imported here so `sierra-sync --help` stays fast and each module stays independent.
    from sierra_sync.cli import blocks, connect, db, demo, keys, run, sandbox, web

    app.add_typer(db.app, name="db")
    app.add_typer(blocks.app, name="blocks")
    app.add_typer(keys.app, name="keys")
    app.add_typer(connect.connect_app, name="connect")
    app.add_typer(connect.disconnect_app, name="disconnect")
    app.command(name="sandbox")(sandbox.sandbox)
    app.command(name="demo")(demo.demo)
    from sierra_sync.cli import logs, watch

    app.add_typer(logs.app, name="logs")
    app.command(name="watch")(watch.watch)
    app.command(name="run")(run.run)
    app.add_typer(web.webhooks_app, name="webhooks")
    app.add_typer(web.api_app, name="api")
    from sierra_sync.cli import health, serve

    app.command(name="serve")(serve.serve)
    app.command(name="health")(health.health)
    from sierra_sync.cli import apikeys

    app.add_typer(apikeys.app, name="api-keys")


def _prefect_defaults() -> None:
    # Before prefect is imported: no telemetry (this machine has no network, and a failed send logs an
    # ERROR line on every run); users can still override either variable.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; translate SierraError into one line on stderr and its exit code."""
    _prefect_defaults()
    _register()
    try:
        app(args=argv, prog_name="sierra-sync")
    except SierraError as err:
        print(f"error: {err.message}", file=sys.stderr)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
