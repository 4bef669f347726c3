"""A live look at one Xero connection for the health check: is the organisation still among the
connection's tenants (GET /connections), does it answer (GET /Organisation), and how much of its budget is
left (X-MinLimit-Remaining, X-DayLimit-Remaining, X-AppMinLimit-Remaining of that answer). Two calls; never
a secret in what it returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.kit.errors import ProviderError
from connectors.xero.provider import XERO
from sierra_core.errors import SierraError

__all__ = ["DAY_LIMIT", "MINUTE_LIMIT", "XeroProbe", "probe_xero"]

DAY_LIMIT = XERO.rate.requests_per_day if XERO.rate is not None else 5000
MINUTE_LIMIT = XERO.rate.requests_per_minute if XERO.rate is not None else 60


@dataclass(frozen=True)
class XeroProbe:
    reachable: bool
    organisation: str | None = None
    minute_remaining: int | None = None
    day_remaining: int | None = None
    app_minute_remaining: int | None = None
    problem: str | None = None  # why it is not reachable (one line, no secret)

    def as_dict(self) -> dict[str, Any]:
        return {
            "reachable": self.reachable,
            "organisation": self.organisation,
            "minute_remaining": self.minute_remaining,
            "day_remaining": self.day_remaining,
            "app_minute_remaining": self.app_minute_remaining,
            "problem": self.problem,
        }


def probe_xero(client: Any, connections: Callable[[], Sequence[Mapping[str, Any]]]) -> XeroProbe:
    """Probe the client's organisation; `connections` lists the tenants the connection's token reaches."""
    tenant = str(client.tenant_id)
    try:
        listed = connections()
    except (ProviderError, SierraError) as err:
        return XeroProbe(False, problem=f"GET /connections failed: {err.message}")
    names = {str(c.get("tenantId")): c.get("tenantName") for c in listed}
    if tenant not in names:
        return XeroProbe(
            False,
            problem=f"the organisation {tenant} is no longer among this connection's tenants "
            "(disconnected in Xero)",
        )
    try:
        answer = client.call("GET", "Organisation", context="read the organisation (health check)")
    except (ProviderError, SierraError) as err:
        problem = f"GET /Organisation failed: {err.message}"
        return XeroProbe(False, organisation=_text(names[tenant]), problem=problem)
    orgs = answer.get("Organisations") if isinstance(answer, Mapping) else None
    name = _text(orgs[0].get("Name")) if orgs else _text(names[tenant])
    left = client.remaining
    return XeroProbe(
        True,
        organisation=name,
        minute_remaining=getattr(left, "minute", None),
        day_remaining=getattr(left, "day", None),
        app_minute_remaining=getattr(left, "app_minute", None),
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
