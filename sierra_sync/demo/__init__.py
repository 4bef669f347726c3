"""`sierra-sync demo`: the whole job on the embedded default, end to end (see runner.py)."""
