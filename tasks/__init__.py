"""Prefect tasks: thin wrappers over plain functions in connectors/, returning small summaries."""
