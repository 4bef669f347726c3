"""Operations logic without Prefect: token upkeep and connection health (the flows in flows/operations.py)."""
