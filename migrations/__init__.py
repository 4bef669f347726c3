"""Alembic migrations of the app database (run with `sierra-sync db upgrade`)."""
