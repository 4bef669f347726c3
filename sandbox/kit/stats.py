"""Request counters per scope (a tenant: QBO realm, an account, a workspace), read by GET /__sandbox/stats."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ScopeStats", "Stats"]


@dataclass
class ScopeStats:
    """Counters of one scope."""

    requests_total: int = 0
    requests_by_endpoint: Counter[str] = field(default_factory=Counter)
    batch_requests: int = 0
    batch_items: int = 0
    throttled: int = 0
    faults_injected: int = 0
    faults_by_kind: Counter[str] = field(default_factory=Counter)
    idempotent_replays: int = 0
    auth_failures: int = 0
    webhooks_sent: int = 0
    webhooks_failed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "requests_total": self.requests_total,
            "requests_by_endpoint": dict(sorted(self.requests_by_endpoint.items())),
            "batch_requests": self.batch_requests,
            "batch_items": self.batch_items,
            "throttled": self.throttled,
            "faults_injected": self.faults_injected,
            "faults_by_kind": dict(sorted(self.faults_by_kind.items())),
            "idempotent_replays": self.idempotent_replays,
            "auth_failures": self.auth_failures,
            "webhooks_sent": self.webhooks_sent,
            "webhooks_failed": self.webhooks_failed,
        }


class Stats:
    """Every scope's counters plus the OAuth endpoints' ones; `total()` lists the scopes under `scopes_key`
    (QBO: "realms")."""

    def __init__(self, scopes_key: str = "scopes") -> None:
        self.scopes_key = scopes_key
        self.scopes: dict[str, ScopeStats] = {}
        self.oauth: Counter[str] = Counter()

    def scope(self, scope_id: str) -> ScopeStats:
        """The counters of a scope (created on first use)."""
        stats = self.scopes.get(scope_id)
        if stats is None:
            stats = self.scopes[scope_id] = ScopeStats()
        return stats

    def total(self) -> dict[str, Any]:
        """Every scope added up, plus `oauth` counters."""
        agg = ScopeStats()
        for s in self.scopes.values():
            agg.requests_total += s.requests_total
            agg.requests_by_endpoint.update(s.requests_by_endpoint)
            agg.batch_requests += s.batch_requests
            agg.batch_items += s.batch_items
            agg.throttled += s.throttled
            agg.faults_injected += s.faults_injected
            agg.faults_by_kind.update(s.faults_by_kind)
            agg.idempotent_replays += s.idempotent_replays
            agg.auth_failures += s.auth_failures
            agg.webhooks_sent += s.webhooks_sent
            agg.webhooks_failed += s.webhooks_failed
        return agg.as_dict() | {
            "oauth": dict(sorted(self.oauth.items())),
            self.scopes_key: sorted(self.scopes),
        }

    def reset(self) -> None:
        """Zero everything."""
        self.scopes.clear()
        self.oauth.clear()
