"""Prefect flows: the pipelines users run and schedule (one module per pipeline)."""
