"""The inputs and the report of a pull (moved to the neutral engine: `connectors.accounting.pull_types`)."""

from __future__ import annotations

from connectors.accounting.pull_types import PullCounts, PullDecision, PullFailure, PullOptions, PullResult

__all__ = ["PullCounts", "PullDecision", "PullFailure", "PullOptions", "PullResult"]
