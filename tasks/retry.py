"""The task-level retry rule (layer 2 of DESIGN.md): retry only what the error hierarchy marks retryable."""

from __future__ import annotations

from typing import Any


def retry_if_retryable(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's retry_condition_fn: gets the failed *state*; True only for errors marked retryable."""
    try:
        state.result()
    except Exception as err:
        return bool(getattr(err, "retryable", False))
    return False
