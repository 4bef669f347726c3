"""`sierra-sync serve`: serve every deployment of prefect.yaml from this one process."""

from __future__ import annotations

import typer


def serve(
    limit: int | None = typer.Option(None, help="At most this many flow runs at the same time."),
) -> None:
    """Serve every deployment (schedules included) from this process until stopped; no worker needed.
    SIGTERM or Ctrl-C: no new runs, runs in flight cancelled (the retry sweep takes up what they left),
    schedules paused, exit 0."""
    from deployments.serve import serve as serve_all
    from sierra_core.shutdown import stop_on_signals

    with stop_on_signals() as stop:
        serve_all(limit=limit, stop=stop)
