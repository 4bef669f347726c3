"""The QuickBooks developer-app credentials block (one per installation, shared by every company)."""

from __future__ import annotations

from typing import Literal

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from connectors.quickbooks import oauth

LOCAL_BASE_URL = "http://127.0.0.1:8701"
LOCAL_CLIENT_ID = "local-client"
LOCAL_CLIENT_SECRET = "local-secret"  # noqa: S105 - the local sandbox's published default, not a secret
LOCAL_REDIRECT_URI = "http://127.0.0.1:8703/oauth/quickbooks/callback"


class QuickBooksAppCredentials(Block):
    """Intuit developer-app credentials for QuickBooks Online: client id and secret, the registered
    redirect URI, the environment (production, Intuit's sandbox, or the local sandbox) and the webhook
    verifier token. Per-company OAuth tokens are not here: they live sealed in the `integrations` table."""

    _block_type_name = "Sierra QuickBooks App Credentials"
    _block_type_slug = "sierra-quickbooks-app-credentials"
    _description = (
        "Intuit developer-app credentials (client id/secret, redirect URI, environment, webhook verifier) "
        "used by sierra-sync to connect companies to QuickBooks Online."
    )

    client_id: str = Field(description="OAuth client id of the Intuit developer app.")
    client_secret: SecretStr = Field(description="OAuth client secret of the Intuit developer app.")
    redirect_uri: str = Field(
        default=LOCAL_REDIRECT_URI,
        description="Redirect URI registered on the app; the OAuth callback of `sierra-sync api serve`.",
    )
    environment: Literal["production", "sandbox", "local"] = Field(
        default="production",
        description="production: QuickBooks Online; sandbox: Intuit's developer sandbox; "
        "local: sierra-sync's own sandbox (`sierra-sync sandbox`).",
    )
    local_base_url: str = Field(
        default=LOCAL_BASE_URL, description="Base URL of the local sandbox (used when environment is local)."
    )
    webhook_verifier_token: SecretStr | None = Field(
        default=None, description="Verifier token of the app's webhooks (checks the intuit-signature header)."
    )
    scopes: list[str] = Field(
        default_factory=lambda: [oauth.ACCOUNTING_SCOPE], description="OAuth scopes to request."
    )

    def api_base_url(self) -> str:
        """Host of the QuickBooks Online API for this environment."""
        if self.environment == "local":
            return self.local_base_url.rstrip("/")
        return oauth.API_BASE_URLS[self.environment]

    def discovery_url(self) -> str:
        """OpenID discovery document of this environment's OAuth server."""
        if self.environment == "local":
            return f"{self.local_base_url.rstrip('/')}/.well-known/openid_configuration"
        return oauth.DISCOVERY_URLS[self.environment]

    def oauth_app(self) -> oauth.OAuthApp:
        """The plain-value view connectors use (they never import prefect)."""
        return oauth.OAuthApp(
            client_id=self.client_id,
            client_secret=self.client_secret.get_secret_value(),
            redirect_uri=self.redirect_uri,
            environment=self.environment,
            discovery_url=self.discovery_url(),
            api_base_url=self.api_base_url(),
            scopes=tuple(self.scopes),
        )
