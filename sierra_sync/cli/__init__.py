"""The `sierra-sync` command line (Typer)."""
