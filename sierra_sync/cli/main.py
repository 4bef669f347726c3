"""Entry point of the `sierra-sync` command.

Sub-commands live in sibling modules, one concern each, and register themselves on `app` here.
Errors a user can cause are SierraError: printed as one line on stderr, exit status non-zero, no traceback.
Long-running commands stop in order on SIGTERM/SIGINT (sierra_core.shutdown): exit status 0; a second signal
stops them at once with 128 + the signal number.
"""

from __future__ import annotations

import logging
import os
import sys

import typer
import typer.main

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
    "users": ("users", "app", "group"),
    "up": ("world", "up", "command"),
    "down": ("world", "down", "command"),
    "status": ("world", "status_command", "command"),
}
# Commands that never use the running local world's Prefect server (they start or stop their own).
OWN_PREFECT = {"up", "down", "status", "demo", "sandbox"}


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


USAGE_EXIT = 2  # a bad setting or input: Click's usage errors and ConfigError alike
INTERRUPTED_EXIT = 130  # Ctrl-C in a short command
# Library loggers whose INFO lines are nobody's business on a normal run (Alembic's "setup plugin …" and
# "Context impl …"; Prefect's "Still processing items" while its log and event queues drain at exit).
QUIET_LOGGERS = ("alembic",)
DRAINING_LOGGERS = ("APILogWorker", "EventsWorker")


class _DropDraining(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Still processing items")


def _quiet_libraries() -> None:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in DRAINING_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropDraining) for f in logger.filters):
            logger.addFilter(_DropDraining())


def _usage_error(err: typer.TyperException) -> int:
    """Print a usage error on one line (Click's wording, and where to read more); returns the exit code.
    A group called without a command (`sierra-sync`, `sierra-sync db`) prints its help instead."""
    text = err.format_message() if hasattr(err, "format_message") else str(err)
    ctx = getattr(err, "ctx", None)
    if type(err).__name__ == "NoArgsIsHelpError":
        print(text, file=sys.stderr)
    else:
        where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        print(f"error: {' '.join(text.split())}{where}", file=sys.stderr)
    code = getattr(err, "exit_code", USAGE_EXIT)
    return code if isinstance(code, int) and code else USAGE_EXIT


def _use_local_world(command: str | None) -> None:
    """With no PREFECT_API_URL set, use the Prefect server of the local world when it runs (`sierra-sync
    up`), instead of starting a temporary one (which costs seconds on every command)."""
    if command in OWN_PREFECT or os.environ.get("PREFECT_API_URL"):
        return
    from sierra_core.settings import get_settings
    from sierra_sync.world.state import prefect_api_url

    url = prefect_api_url(get_settings().data_dir)
    if url is not None:
        os.environ["PREFECT_API_URL"] = url


def _run_in_world(args: list[str]) -> int | None:
    """`sierra-sync run …` while the local world runs (and this command would use its Prefect server):
    hand it to the world's runner, which has Prefect and the flows imported already
    (sierra_sync/world/runner.py); returns the exit status, or None to run here (no world,
    SIERRA_RUN_IN_PROCESS=1, another Prefect API, or the runner cannot be reached). Neither Prefect nor
    pydantic is imported on that path: the settings are read, and checked, by the run itself."""
    if not args or args[0] != "run" or os.environ.get("SIERRA_RUN_IN_PROCESS", "").lower() in TRUE:
        return None
    from sierra_sync.world.runner import OFF_ENV, data_dir_from_env, delegate, world_runner

    found = world_runner(data_dir_from_env())
    if found is None or os.environ.get("PREFECT_API_URL", found[1]) != found[1]:
        return None
    os.environ["PREFECT_API_URL"] = found[1]  # as _use_local_world sets it
    os.environ[OFF_ENV] = "1"  # the runner's fork runs it in its own process, never hands it on again
    try:
        return delegate(found[0], args)
    finally:
        os.environ.pop(OFF_ENV, None)


TRUE = {"1", "true", "yes", "on"}


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; translate SierraError into one line on stderr and its exit code."""
    _prefect_defaults()
    args = sys.argv[1:] if argv is None else argv
    delegated = _run_in_world(args)
    if delegated is not None:
        sys.exit(delegated)
    try:
        _use_local_world(args[0] if args else None)
    except SierraError as err:  # a bad SIERRA_* setting, reported as every command reports it
        print(f"error: {err.message}", file=sys.stderr)
        sys.exit(err.exit_code)
    _register(args[0] if args and args[0] in COMMANDS else None)
    _quiet_libraries()
    try:
        code = typer.main.get_command(app).main(args=args, prog_name="sierra-sync", standalone_mode=False)
    except typer.Abort:  # end of input while Typer was prompting
        print("interrupted", file=sys.stderr)
        sys.exit(INTERRUPTED_EXIT)
    except typer.TyperException as err:  # Click's usage errors (Typer ships its own Click)
        sys.exit(_usage_error(err))
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
        sys.exit(INTERRUPTED_EXIT)
    if isinstance(code, int) and code:  # typer.Exit(N) of a command's own verdict
        sys.exit(code)
