"""The Xero developer-app credentials block (one per installation, shared by every company)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from blocks.loader import load_block
from blocks.provider import ProviderAppCredentials
from connectors.kit.provider import Provider
from connectors.xero.provider import XERO

__all__ = [
    "LOCAL_XERO_BASE_URL",
    "LOCAL_XERO_CLIENT_ID",
    "LOCAL_XERO_CLIENT_SECRET",
    "LOCAL_XERO_REDIRECT_URI",
    "LOCAL_XERO_WEBHOOK_KEY",
    "XERO_APP_BLOCK",
    "XeroAppCredentials",
    "xero_webhook_keys",
]

XERO_APP_BLOCK = "sierra-xero-app"
LOCAL_XERO_BASE_URL = "http://127.0.0.1:8704"
LOCAL_XERO_CLIENT_ID = "local-client"
LOCAL_XERO_CLIENT_SECRET = "local-secret"  # noqa: S105 - the local sandbox's published default, not a secret
LOCAL_XERO_REDIRECT_URI = "http://127.0.0.1:8703/oauth/xero/callback"
LOCAL_XERO_WEBHOOK_KEY = "local-webhook-secret"


class XeroAppCredentials(ProviderAppCredentials):
    """Xero developer-app credentials: client id and secret, the registered redirect URI, the environment
    (production, or the local sandbox) and the webhook key that signs Xero's deliveries. Per-company OAuth
    tokens are not here: they live sealed in the `integrations` table."""

    _block_type_name = "Sierra Xero App Credentials"
    _block_type_slug = "sierra-xero-app-credentials"
    _description = (
        "Xero developer-app credentials (client id/secret, redirect URI, environment, webhook key) used by "
        "sierra-sync to connect companies to Xero."
    )
    provider: ClassVar[Provider] = XERO

    client_id: str = Field(description="OAuth client id of the Xero app.")
    client_secret: SecretStr = Field(description="OAuth client secret of the Xero app.")
    redirect_uri: str = Field(
        default=LOCAL_XERO_REDIRECT_URI,
        description="Redirect URI registered on the app; the OAuth callback of `sierra-sync api serve`.",
    )
    local_base_url: str | None = Field(
        default=LOCAL_XERO_BASE_URL,
        description="Base URL of the local sandbox (used when environment is local).",
    )
    webhook_key: SecretStr | None = Field(
        default=None, description="Webhook key of the app (checks the x-xero-signature header)."
    )


def xero_webhook_keys(name: str = XERO_APP_BLOCK) -> list[str]:
    """The webhook key of the saved Xero app block (none when it has none)."""
    key = load_block(XeroAppCredentials, name).webhook_key
    return [key.get_secret_value()] if key is not None else []
