"""Prefect Block classes for credentials and settings."""
