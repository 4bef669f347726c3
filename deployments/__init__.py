"""Deployment definitions and the `serve` entry point used by prefect.yaml."""
