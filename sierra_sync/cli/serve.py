"""`sierra-sync serve`: serve every deployment of prefect.yaml from this one process."""

from __future__ import annotations

import typer


def serve(
    limit: int | None = typer.Option(None, help="At most this many flow runs at the same time."),
) -> None:
    """Serve every deployment (schedules included) from this process until stopped; no worker needed."""
    from deployments.serve import serve as serve_all

    serve_all(limit=limit)
