"""Every provider this installation can connect, by name (the `integrations.integration_type` value), with
its adapter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from connectors.kit.adapter import Adapter
from connectors.kit.provider import Provider
from connectors.quickbooks.adapter import ADAPTER as QUICKBOOKS
from connectors.stripe.adapter import ADAPTER as STRIPE
from connectors.xero.adapter import ADAPTER as XERO
from sierra_core.errors import NotFoundError

__all__ = ["ADAPTERS", "PROVIDERS", "get_adapter", "get_provider", "registered"]

ADAPTERS: dict[str, Adapter] = {a.provider.name: a for a in (QUICKBOOKS, STRIPE, XERO)}
PROVIDERS: dict[str, Provider] = {name: a.provider for name, a in ADAPTERS.items()}
_ALIASES = {"quickbooks": "quickbooks_online", "qbo": "quickbooks_online"}


def get_adapter(name: str) -> Adapter:
    """The adapter of provider `name` (or a known alias such as `quickbooks`), or one line naming the
    choices."""
    key = _ALIASES.get(name.lower(), name.lower())
    try:
        return ADAPTERS[key]
    except KeyError:
        choices = ", ".join(sorted(ADAPTERS))
        raise NotFoundError(f"no provider called {name!r}; choose one of: {choices}") from None


def get_provider(name: str) -> Provider:
    """The declaration of provider `name` (see `get_adapter`)."""
    return get_adapter(name).provider


@contextmanager
def registered(adapter: Adapter) -> Iterator[Adapter]:
    """Add `adapter`'s provider for the duration of the block (a test's own provider; never left behind)."""
    name = adapter.provider.name
    if name in ADAPTERS:
        raise ValueError(f"a provider called {name!r} is already registered")
    ADAPTERS[name], PROVIDERS[name] = adapter, adapter.provider
    try:
        yield adapter
    finally:
        del ADAPTERS[name], PROVIDERS[name]
