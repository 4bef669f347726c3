"""The QuickBooks developer-app credentials block (one per installation, shared by every company)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from blocks.provider import ProviderAppCredentials
from connectors.kit.provider import Provider
from connectors.quickbooks.provider import ACCOUNTING_SCOPE, QUICKBOOKS

LOCAL_BASE_URL = "http://127.0.0.1:8701"
LOCAL_CLIENT_ID = "local-client"
LOCAL_CLIENT_SECRET = "local-secret"  # noqa: S105 - the local sandbox's published default, not a secret
LOCAL_REDIRECT_URI = "http://127.0.0.1:8703/oauth/quickbooks/callback"


class QuickBooksAppCredentials(ProviderAppCredentials):
    """Intuit developer-app credentials for QuickBooks Online: client id and secret, the registered
    redirect URI, the environment (production, Intuit's sandbox, or the local sandbox) and the webhook
    verifier token. Per-company OAuth tokens are not here: they live sealed in the `integrations` table."""

    _block_type_name = "Sierra QuickBooks App Credentials"
    _block_type_slug = "sierra-quickbooks-app-credentials"
    _description = (
        "Intuit developer-app credentials (client id/secret, redirect URI, environment, webhook verifier) "
        "used by sierra-sync to connect companies to QuickBooks Online."
    )
    provider: ClassVar[Provider] = QUICKBOOKS

    client_id: str = Field(description="OAuth client id of the Intuit developer app.")
    client_secret: SecretStr = Field(description="OAuth client secret of the Intuit developer app.")
    redirect_uri: str = Field(
        default=LOCAL_REDIRECT_URI,
        description="Redirect URI registered on the app; the OAuth callback of `sierra-sync api serve`.",
    )
    local_base_url: str | None = Field(
        default=LOCAL_BASE_URL, description="Base URL of the local sandbox (used when environment is local)."
    )
    webhook_verifier_token: SecretStr | None = Field(
        default=None, description="Verifier token of the app's webhooks (checks the intuit-signature header)."
    )
    scopes: list[str] | None = Field(
        default_factory=lambda: [ACCOUNTING_SCOPE], description="OAuth scopes to request."
    )
