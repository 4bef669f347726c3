"""`sierra-sync demo [--json] [--keep-server]`: the main job on the embedded default, end to end.

The steps live in sierra_sync/demo/ (runner.py tells them in order)."""

from __future__ import annotations

import sys

import typer

from sierra_sync.cli.common import echo_json

UP_HINT = (
    "Bring up the local world with this data (Prefect UI, worker, API, sandboxes, watch): sierra-sync up"
)


def demo(
    companies: int = typer.Option(2, min=1, max=20, help="Companies to seed with books in QuickBooks."),
    invoices: int = typer.Option(500, min=1, help="Invoices per QuickBooks company."),
    xero_companies: int = typer.Option(1, min=0, max=10, help="Companies to seed with books in Xero."),
    xero_invoices: int = typer.Option(
        150, min=1, help="Invoices per Xero company (Xero allows 60 calls a minute per organisation)."
    ),
    keep_server: bool = typer.Option(
        False, "--keep-server", help="Leave the Prefect server running afterwards and print its UI address."
    ),
    prefect_port: int = typer.Option(
        4200, min=0, max=65535, help="Port of the demo's Prefect server (a free one if taken)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON object on stdout."),
) -> None:
    """Seed, connect, sync both ways under injected faults, reconcile, and print the accuracy figure.
    SIGTERM or Ctrl-C: the step in progress ends (a push after its batch request in flight), the sandboxes
    and the Prefect server it started stop (also with --keep-server), exit 0."""
    from sierra_core.settings import get_settings
    from sierra_core.shutdown import run_until_stopped, stop_on_signals
    from sierra_sync.demo.runner import DemoOptions, DemoStopped, run_demo

    options = DemoOptions(
        companies=companies,
        invoices=invoices,
        keep_server=keep_server,
        prefect_port=prefect_port,
        xero_companies=xero_companies,
        xero_invoices=xero_invoices,
    )
    out = sys.stderr if as_json else sys.stdout
    with stop_on_signals() as stop:
        try:
            figures = run_until_stopped(
                lambda: run_demo(options, out=out, stop=stop), stop, grace=get_settings().stop_grace_seconds
            )
        except DemoStopped as stopped:
            print(
                f"demo stopped before the step {str(stopped)!r}: the sandboxes and the Prefect server it "
                "started are stopped",
                file=out,
            )
            return
    if as_json:
        echo_json(figures)
        return
    typer.echo("")
    typer.echo(
        f"The books now hold {figures['invoices_synced']} invoices, {figures['payments_synced']} payments, "
        f"{figures['customers_synced']} customers and {figures['expenses_synced']} expenses of "
        f"{len(figures['companies'])} companies; {figures['duplicates']} duplicates, "
        f"{figures['failed']} records failed."
    )
    for books in figures["books"]:
        typer.echo(
            f"  {books['company']} (books in {books['system']}): {books['accuracy_pct']:.2f} % of "
            f"{books['invoices_checked']} invoices and {books['payments_checked']} payments match to the "
            f"cent, {books['duplicates']} {'duplicate' if books['duplicates'] == 1 else 'duplicates'}"
        )
    for note in figures["notes"]:
        typer.echo(f"note: {note}")
    for mismatch in figures["mismatches"]:
        typer.echo(f"mismatch: {mismatch}")
    if keep_server:
        typer.echo(
            f"Prefect UI: {figures['prefect_ui']} (runs, artifacts, deployments); the next demo reuses it; "
            f"stop it with `kill -- -{figures['prefect_server_pid']}`"
        )
    typer.echo(f"Finished in {figures['duration_s']} s. Accuracy: {figures['accuracy_pct']:.2f} %")
    typer.echo(UP_HINT)
