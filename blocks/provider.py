"""The base of every provider's developer-app credentials block (one per installation and provider).

A subclass names its provider (`provider`), its block type and its defaults; the base holds what every OAuth
app has (client id and secret, the registered redirect URI, the environment, the local sandbox's URL, the
scopes) and builds the plain-value `oauth.App` that connectors use (they never import prefect). Per-company
tokens are not here: they live sealed in the `integrations` table.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from connectors.kit import oauth
from connectors.kit.provider import Provider
from sierra_core.errors import ConfigError

__all__ = ["ProviderAppCredentials"]


class ProviderAppCredentials(Block):
    """A provider's developer-app credentials; see the subclasses."""

    provider: ClassVar[Provider]

    client_id: str = Field(description="OAuth client id of the developer app.")
    client_secret: SecretStr | None = Field(default=None, description="OAuth client secret of the app.")
    redirect_uri: str = Field(
        description="Redirect URI registered on the app: the OAuth callback of the web app."
    )
    environment: Literal["production", "sandbox", "local"] = Field(
        default="production",
        description="production: the real service; sandbox: the provider's own test environment; "
        "local: sierra-sync's own sandbox (`sierra-sync sandbox`).",
    )
    local_base_url: str | None = Field(
        default=None, description="Base URL of the local sandbox (used when environment is local)."
    )
    scopes: list[str] | None = Field(
        default=None, description="OAuth scopes to request (default: the provider's)."
    )

    def client_secret_value(self) -> str:
        """The client secret (a subclass may take it from elsewhere, e.g. Stripe's secret-key block)."""
        if self.client_secret is None:
            raise ConfigError(
                f"the {self.provider.title} app block has no client secret; run `sierra-sync blocks setup`"
            )
        return self.client_secret.get_secret_value()

    def check(self) -> None:
        """One clear line when a URL or the environment is unusable (before anything is saved)."""
        self._app("unchecked")

    def oauth_app(self) -> oauth.App:
        """The plain-value view connectors use."""
        return self._app(self.client_secret_value())

    def _app(self, secret: str) -> oauth.App:
        try:
            return oauth.App(
                provider=self.provider,
                environment=self.environment,
                client_id=self.client_id,
                client_secret=secret,
                redirect_uri=self.redirect_uri,
                local_base=self.local_base_url,
                scopes=tuple(self.scopes) if self.scopes is not None else None,
            )
        except ValueError as err:  # e.g. an environment the provider does not have
            raise ConfigError(f"the {self.provider.title} app block is not usable: {err}") from None

    def api_base_url(self) -> str:
        """Host of the provider's API for this environment."""
        return self.oauth_app().api_base_url
