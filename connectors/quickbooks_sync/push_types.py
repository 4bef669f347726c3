"""The inputs of a push (moved to the neutral engine: `connectors.accounting.push_types`)."""

from __future__ import annotations

from connectors.accounting.push_types import Op, PushOptions, Target

__all__ = ["Op", "PushOptions", "Target"]
