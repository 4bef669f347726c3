"""Every local sandbox by provider name, and how to build its ASGI app from the settings shared by all.

`sierra-sync sandbox` starts each of `SANDBOXES` (or the one `--provider` names). A test may add a sandbox
for a test-only provider with `registered(entry)`, which takes it out again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sandbox.common.faults import FaultSettings

__all__ = ["SANDBOXES", "SandboxEntry", "SandboxSettings", "UnknownSandboxError", "get_sandbox", "registered"]


@dataclass(frozen=True)
class SandboxSettings:
    """What every sandbox can be told from the command line."""

    client_id: str = "local-client"
    client_secret: str = "local-secret"  # noqa: S105 - the documented local default; never printed
    latency_ms: int = 0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    state_file: str | None = None
    webhook_url: str | None = None
    # Stripe's own: a JSON state file, and one endpoint its events are POSTed to (signed with the secret)
    stripe_state_file: str | None = None
    stripe_webhook_url: str | None = None
    stripe_webhook_secret: str | None = None
    # Xero's own: a SQLite file that keeps its organisations, documents, journals and tokens
    xero_state_file: str | None = None


@dataclass(frozen=True)
class SandboxEntry:
    """One provider's sandbox: its name (`--provider`), title, default port and app factory."""

    name: str
    title: str
    default_port: int
    build: Callable[[SandboxSettings], Any]
    aliases: tuple[str, ...] = ()
    shows_client_id: bool = True


class UnknownSandboxError(LookupError):
    """No sandbox has that name; the message lists the known ones."""


def _quickbooks(settings: SandboxSettings) -> Any:
    from sandbox.quickbooks import SandboxOptions, create_app

    return create_app(
        SandboxOptions(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            latency_ms=settings.latency_ms,
            error_rate=settings.error_rate,
            drop_rate=settings.drop_rate,
            state_file=settings.state_file,
            webhook_url=settings.webhook_url,
        )
    )


def _stripe(settings: SandboxSettings) -> Any:
    from sandbox.stripe import StripeSandboxOptions, WebhookEndpointOptions, create_app

    endpoints = []
    if settings.stripe_webhook_url and settings.stripe_webhook_secret:
        endpoints.append(WebhookEndpointOptions(settings.stripe_webhook_url, settings.stripe_webhook_secret))
    return create_app(
        StripeSandboxOptions(
            latency_ms=settings.latency_ms,
            error_rate=settings.error_rate,
            drop_rate=settings.drop_rate,
            state_file=settings.stripe_state_file,
            webhook_endpoints=endpoints,
        )
    )


def _xero(settings: SandboxSettings) -> Any:
    from sandbox.kit.spec import KitOptions
    from sandbox.kit.throttle import Limits
    from sandbox.xero import XeroSandboxOptions, create_app

    faults = FaultSettings(
        latency_ms=settings.latency_ms, error_rate=settings.error_rate, drop_rate=settings.drop_rate
    )
    kit = KitOptions(
        faults=faults,
        limits=Limits(requests_per_minute=60, concurrent_requests=5),
        state_file=settings.xero_state_file,
    )
    return create_app(
        XeroSandboxOptions(client_id=settings.client_id, client_secret=settings.client_secret, kit=kit)
    )


SANDBOXES: dict[str, SandboxEntry] = {
    e.name: e
    for e in (
        SandboxEntry("quickbooks", "QuickBooks Online", 8701, _quickbooks, ("quickbooks_online", "qbo")),
        SandboxEntry("stripe", "Stripe", 8702, _stripe, shows_client_id=False),
        SandboxEntry("xero", "Xero", 8704, _xero),
    )
}


def get_sandbox(name: str) -> SandboxEntry:
    """The sandbox called `name` (or one of its aliases)."""
    wanted = name.lower()
    for entry in SANDBOXES.values():
        if wanted == entry.name or wanted in entry.aliases:
            return entry
    known = ", ".join(sorted(SANDBOXES))
    raise UnknownSandboxError(f"no sandbox called {name!r}; known: {known}")


@contextmanager
def registered(entry: SandboxEntry) -> Iterator[SandboxEntry]:
    """Add `entry` to the registry for the duration of the block (tests' own providers)."""
    if entry.name in SANDBOXES:
        raise ValueError(f"a sandbox called {entry.name!r} is already registered")
    SANDBOXES[entry.name] = entry
    try:
        yield entry
    finally:
        del SANDBOXES[entry.name]
