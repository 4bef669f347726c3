"""Deterministic, realistic demo data for construction companies (`sierra-sync db seed`)."""
