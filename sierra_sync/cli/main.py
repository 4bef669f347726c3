"""Entry point of the `sierra-sync` command.

Sub-commands live in sibling modules, one concern each, and register themselves on `app` here.
Errors a user can cause are SierraError: printed as one line on stderr, exit status non-zero, no traceback.
Long-running commands stop in order on SIGTERM/SIGINT (sierra_core.shutdown): exit status 0; a second signal
stops them at once with 128 + the signal number.
"""

from __future__ import annotations

import os
import sys

import typer

from sierra_core.errors import SierraError
from sierra_core.shutdown import ForcedStop, WorkAbandoned, exit_now

app = typer.Typer(
    name="sierra-sync",
    help="Sierra Suites integrations: QuickBooks Online and Stripe sync on Prefect 3.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Sierra Suites integrations: QuickBooks Online and Stripe sync on Prefect 3."""
    # A callback keeps Typer in group mode even when only one command is registered (see _register).


# command -> (module under sierra_sync.cli, attribute, "group" for a Typer sub-app or "command")
COMMANDS: dict[str, tuple[str, str, str]] = {
    "db": ("db", "app", "group"),
    "blocks": ("blocks", "app", "group"),
    "keys": ("keys", "app", "group"),
    "connect": ("connect", "connect", "command"),
    "disconnect": ("connect", "disconnect", "command"),
    "sandbox": ("sandbox", "sandbox", "command"),
    "demo": ("demo", "demo", "command"),
    "logs": ("logs", "app", "group"),
    "watch": ("watch", "watch", "command"),
    "run": ("run", "run", "command"),
    "webhooks": ("web", "webhooks_app", "group"),
    "api": ("web", "api_app", "group"),
    "serve": ("serve", "serve", "command"),
    "health": ("health", "health", "command"),
    "api-keys": ("apikeys", "app", "group"),
}


def _register(only: str | None = None) -> None:
    """Register the commands; with `only`, just that one: several command modules import Prefect, which
    costs seconds, and `sierra-sync db upgrade` should not pay for `blocks setup`."""
    import importlib

    for name, (module, attr, kind) in COMMANDS.items():
        if only is not None and name != only:
            continue
        target = getattr(importlib.import_module(f"sierra_sync.cli.{module}"), attr)
        if kind == "group":
            app.add_typer(target, name=name)
        else:
            app.command(name=name)(target)


def _prefect_defaults() -> None:
    # Before prefect is imported: no telemetry (this machine has no network, and a failed send logs an
    # ERROR line on every run); users can still override either variable.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; translate SierraError into one line on stderr and its exit code."""
    _prefect_defaults()
    args = sys.argv[1:] if argv is None else argv
    _register(args[0] if args and args[0] in COMMANDS else None)
    try:
        app(args=argv, prog_name="sierra-sync")
    except SierraError as err:
        print(f"error: {err.message}", file=sys.stderr)
        sys.exit(err.exit_code)
    except WorkAbandoned as err:  # an orderly stop that did not wait for the work (it is safe to drop)
        print(f"stopped: {err}", file=sys.stderr)
        exit_now(0)
    except ForcedStop as err:  # a second signal: the cleanups have run; a worker thread may still be busy
        print(f"stopped at once ({err}); attempts left in progress are retried by the sweep", file=sys.stderr)
        exit_now(err.exit_code)
    except KeyboardInterrupt:  # Ctrl-C in a short command (Typer usually turns it into exit 130 itself)
        print("interrupted", file=sys.stderr)
        sys.exit(130)
