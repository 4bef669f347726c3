"""Which block holds each provider's developer-app credentials, and loading them as `oauth.App`s."""

from __future__ import annotations

from collections.abc import Callable

from blocks.loader import QBO_APP_BLOCK, load_block, quickbooks_app
from blocks.provider import ProviderAppCredentials
from blocks.quickbooks import QuickBooksAppCredentials
from blocks.stripe import STRIPE_CONNECT_BLOCK, StripeConnectCredentials, stripe_webhook_secrets
from connectors.kit import oauth
from connectors.kit.registry import get_provider
from sierra_core.errors import ConfigError

__all__ = ["APP_BLOCKS", "WEBHOOK_SECRETS", "configured_apps", "configured_webhook_secrets", "provider_app"]

# provider name -> (block class, the name it is saved under)
APP_BLOCKS: dict[str, tuple[type[ProviderAppCredentials], str]] = {
    "quickbooks_online": (QuickBooksAppCredentials, QBO_APP_BLOCK),
    "stripe": (StripeConnectCredentials, STRIPE_CONNECT_BLOCK),
}


def _quickbooks_verifier() -> list[str]:
    token = quickbooks_app().webhook_verifier_token
    return [token.get_secret_value()] if token is not None else []


# provider name -> where its webhook signing secret(s) are kept
WEBHOOK_SECRETS: dict[str, Callable[[], list[str]]] = {
    "quickbooks_online": _quickbooks_verifier,
    "stripe": stripe_webhook_secrets,
}


def provider_app(name: str) -> oauth.App:
    """The app of provider `name` (an alias such as `quickbooks` works), from its saved block."""
    provider = get_provider(name)
    try:
        cls, block_name = APP_BLOCKS[provider.name]
    except KeyError:
        raise ConfigError(f"{provider.title} has no app block in this installation") from None
    return load_block(cls, block_name).oauth_app()


def configured_apps() -> dict[str, oauth.App]:
    """Every provider whose app block is saved, by provider name (the others are skipped: not set up)."""
    apps: dict[str, oauth.App] = {}
    for name in APP_BLOCKS:
        try:
            apps[name] = provider_app(name)
        except ConfigError:
            continue
    return apps


def configured_webhook_secrets() -> dict[str, list[str]]:
    """The webhook secrets of every provider that has them saved, by provider name."""
    found: dict[str, list[str]] = {}
    for name, load in WEBHOOK_SECRETS.items():
        try:
            secrets = load()
        except ConfigError:
            continue
        if secrets:
            found[name] = secrets
    return found
