"""Fault settings per scope (a tenant) on top of `sandbox.common.faults`: a default for every scope, overrides
per scope, and the JSON of GET/POST /__sandbox/faults.

    board = FaultBoard(FaultSettings(latency_ms=50), rng=random.Random(7))
    injector = board.injector("9130")            # created from the default (or the scope's start settings)
    board.set(None, {"error_rate": 0.1}, None)   # every scope; board.set("9130", ..., throttle=3) one scope
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sandbox.common.faults import FaultInjector, FaultSettings

__all__ = ["FAULT_KEYS", "FaultBoard", "fault_dict", "parse_fault_changes"]

FAULT_KEYS = ("latency_ms", "jitter_ms", "error_rate", "drop_rate", "drop_mode", "drop_hang_s")
_NUMBERS = ("latency_ms", "jitter_ms", "error_rate", "drop_rate", "drop_hang_s")


def fault_dict(settings: FaultSettings) -> dict[str, Any]:
    """The JSON form of fault settings."""
    return {key: getattr(settings, key) for key in FAULT_KEYS}


def parse_fault_changes(body: Mapping[str, Any]) -> tuple[dict[str, Any], int | None]:
    """(changes, throttle burst) from an admin body; ValueError says which value is wrong."""
    changes: dict[str, Any] = {}
    for key in _NUMBERS:
        if key in body:
            value = body[key]
            if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
                raise ValueError(f"{key} must be a number")
            changes[key] = float(value)
    if "drop_mode" in body:
        changes["drop_mode"] = body["drop_mode"]
    throttle = body.get("throttle")
    if throttle is not None and (not isinstance(throttle, int) or isinstance(throttle, bool) or throttle < 0):
        raise ValueError("throttle must be the number of upcoming requests to throttle (>= 0)")
    return changes, throttle


class FaultBoard:
    """One `FaultInjector` per scope, made on first use from `start` (per scope) or the default."""

    def __init__(
        self,
        default: FaultSettings,
        rng: random.Random | None = None,
        start: Mapping[str, FaultSettings] | None = None,
    ) -> None:
        self.default = default
        self.rng = rng or random.Random()
        self.start = dict(start or {})
        self.injectors: dict[str, FaultInjector] = {}

    def injector(self, scope: str) -> FaultInjector:
        """The fault injector of a scope (created on first use)."""
        inj = self.injectors.get(scope)
        if inj is None:
            inj = self.injectors[scope] = FaultInjector(self.start.get(scope, self.default), self.rng)
        return inj

    def get(self, scope: str | None, scope_key: str) -> dict[str, Any]:
        """The JSON of the default settings (scope None) or of one scope's."""
        if scope is None:
            return {scope_key: None, **fault_dict(self.default)}
        inj = self.injector(scope)
        return {scope_key: scope, **fault_dict(inj.settings), "throttle_pending": inj.throttle_pending}

    def set(
        self, scope: str | None, changes: dict[str, Any], throttle: int | None, scope_key: str = "scope"
    ) -> dict[str, Any]:
        """Change the settings of one scope, or the default and every scope (scope None); ValueError on a
        bad value."""
        if scope is None:
            self.default = replace(self.default, **changes)
            for inj in self.injectors.values():
                inj.settings = replace(inj.settings, **changes)
                if throttle is not None:
                    inj.arm_throttle(throttle)
            return self.get(None, scope_key)
        inj = self.injector(scope)
        inj.settings = replace(inj.settings, **changes)
        if throttle is not None:
            inj.arm_throttle(throttle)
        return self.get(scope, scope_key)

    def reset(self) -> None:
        """Forget every scope's injector (the default stays)."""
        self.injectors.clear()
