"""`sierra-sync up | down | status [--json]`: the local world (sierra_sync/world/) in the background."""

from __future__ import annotations

import sys

import typer

from sierra_core.settings import get_settings
from sierra_sync.cli.common import echo_json

NEXT_STEPS = """Try next:
  sierra-sync status                                        what runs, where
  sierra-sync run reconcile --company "Summit Ridge Builders" --json
  sierra-sync run push-to-quickbooks --company "Summit Ridge Builders" --param dry_run=true --json
  prefect deployment run reconcile/reconcile --param company="Summit Ridge Builders"   (runs on the worker)
  sierra-sync down                                          stop it all"""


def up(
    prefect_port: int = typer.Option(
        4200, min=0, max=65535, help="Port of the Prefect server and its UI (a free one if taken)."
    ),
    qbo_port: int | None = typer.Option(
        None, min=0, max=65535, help="QuickBooks sandbox port (default SIERRA_QBO_PORT, 8701)."
    ),
    stripe_port: int | None = typer.Option(
        None, min=0, max=65535, help="Stripe sandbox port (default SIERRA_STRIPE_PORT, 8702)."
    ),
    api_port: int | None = typer.Option(
        None, min=0, max=65535, help="Web app port (default SIERRA_API_PORT, 8703)."
    ),
    xero_port: int | None = typer.Option(
        None, min=0, max=65535, help="Xero sandbox port (default SIERRA_XERO_PORT, 8704)."
    ),
    schedules: bool = typer.Option(
        False, "--schedules", help="Run the deployments' schedules (default: registered paused)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the URLs as one JSON object on stdout."),
) -> None:
    """Start the local world in the background and return once every part answers: both sandboxes (state
    kept under the data directory), a Prefect server with its UI, the work pool with every deployment of
    prefect.yaml and a worker, the web app (API, webhooks) and `watch`. Ports: the defaults where free."""
    from sierra_core.shutdown import stop_on_signals
    from sierra_sync.world.up import UpOptions, World, status

    settings = get_settings()
    options = UpOptions(
        data_dir=settings.data_dir,
        host=settings.host,
        prefect_port=prefect_port,
        qbo_port=settings.qbo_port if qbo_port is None else qbo_port,
        stripe_port=settings.stripe_port if stripe_port is None else stripe_port,
        api_port=settings.api_port if api_port is None else api_port,
        xero_port=settings.xero_port if xero_port is None else xero_port,
        schedules=schedules,
    )
    out = sys.stderr if as_json else sys.stdout
    current = status(options.data_dir)
    if current["running"]:
        print(f"the local world is already running ({', '.join(current['services'])}):", file=out)
        _print_urls(current, as_json)
        return
    with stop_on_signals() as stop:
        urls = World(options, lambda line: print(line, file=out, flush=True), stop).start()
    report = status(options.data_dir)
    if as_json:
        echo_json(report)
        return
    typer.echo("")
    _print_urls({**report, **urls}, False)
    typer.echo(NEXT_STEPS)


def _print_urls(report: dict[str, object], as_json: bool) -> None:
    if as_json:
        echo_json(report)
        return
    typer.echo(f"  Prefect UI        {report['prefect_ui']}")
    typer.echo(f"  Prefect API       {report['prefect_api']}")
    typer.echo(f"  web app (API)     {report['api']}   playground: {report['api']}/docs")
    typer.echo(f"  QuickBooks sandbox {report['quickbooks']}")
    typer.echo(f"  Stripe sandbox    {report['stripe']}")
    typer.echo(f"  Xero sandbox      {report.get('xero')}")
    typer.echo(f"  logs              {report['data_dir']}/world/logs/")


def down() -> None:
    """Stop the local world: every process `up` started (SIGTERM, then SIGKILL after 15 s) and all they
    started; the data stays under the data directory for the next `up`."""
    from sierra_sync.world.processes import stop_all
    from sierra_sync.world.state import WorldState

    state = WorldState(get_settings().data_dir)
    stale = state.clear_stale()
    stopped = stop_all(state)
    if stopped:
        typer.echo(f"stopped {', '.join(stopped)}")
    else:
        typer.echo(
            "the local world is not running"
            + (f" (removed stale records: {', '.join(stale)})" if stale else "")
        )


def status_command(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """What of the local world runs and where (URLs, pids, logs)."""
    from sierra_sync.world.up import status

    report = status(get_settings().data_dir)
    if as_json:
        echo_json(report)
        return
    if not report["running"]:
        typer.echo("the local world is not running (start it with `sierra-sync up`)")
        return
    services = report["services"]
    running = ", ".join(f"{name} (pid {service['pid']})" for name, service in services.items())
    typer.echo(f"running: {running}")
    _print_urls(report, False)
