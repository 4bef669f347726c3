"""Stripe credentials: two Prefect `Secret` blocks (one value each) and the API base URL as a Variable.

* `sierra-stripe-secret-key`: the account's secret key (`sk_live_…` / `sk_test_…`, or a restricted `rk_…`);
* `sierra-stripe-webhook-secret`: the endpoint signing secret (`whsec_…`); during a rotation it may hold
  the new and the old secret separated by a comma (Stripe signs with both for a while);
* Variable `sierra-stripe-api-base`: where the API is (`https://api.stripe.com`, or the local sandbox). Not
  a secret, so a Variable (Variables are not encrypted: never put a secret in one).

`sierra-sync blocks setup` saves them (`--local`: the sandbox's values). Connectors never import this
module; tasks and the web app call `stripe_gateway()` and pass plain values down.
"""

from __future__ import annotations

from typing import ClassVar

from prefect.blocks.system import Secret
from prefect.variables import Variable
from pydantic import Field

from blocks.loader import load_block
from blocks.provider import ProviderAppCredentials
from connectors.kit.provider import Provider
from connectors.stripe import RetryPolicy, StripeGateway
from connectors.stripe.gateway import validate_base_url
from connectors.stripe.provider import STRIPE
from sierra_core.errors import ConfigError

STRIPE_SECRET_KEY_BLOCK = "sierra-stripe-secret-key"  # noqa: S105 - a block name
STRIPE_WEBHOOK_SECRET_BLOCK = "sierra-stripe-webhook-secret"  # noqa: S105 - a block name
STRIPE_API_BASE_VARIABLE = "sierra-stripe-api-base"
STRIPE_API_BASE = "https://api.stripe.com"
STRIPE_CONNECT_BLOCK = "sierra-stripe-connect"
LOCAL_STRIPE_CONNECT_CLIENT_ID = "ca_localsierrasandbox"
LOCAL_STRIPE_REDIRECT_URI = "http://127.0.0.1:8703/oauth/stripe/callback"

# The local sandbox accepts any sk_test_ key; these are the published local defaults, not secrets.
LOCAL_STRIPE_SECRET_KEY = "sk_test_localsierrasandbox0001"  # noqa: S105
LOCAL_STRIPE_WEBHOOK_SECRET = "whsec_local_sierra_sandbox"  # noqa: S105

__all__ = [
    "LOCAL_STRIPE_CONNECT_CLIENT_ID",
    "LOCAL_STRIPE_REDIRECT_URI",
    "LOCAL_STRIPE_SECRET_KEY",
    "LOCAL_STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "STRIPE_API_BASE_VARIABLE",
    "STRIPE_CONNECT_BLOCK",
    "STRIPE_SECRET_KEY_BLOCK",
    "STRIPE_WEBHOOK_SECRET_BLOCK",
    "StripeConnectCredentials",
    "save_stripe_settings",
    "stripe_api_base",
    "stripe_gateway",
    "stripe_secret_key",
    "stripe_webhook_secrets",
]


def _secret_text(name: str) -> str:
    value = load_block(Secret, name).get()
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"the Prefect block '{name}' is empty; set it with `sierra-sync blocks setup`")
    return value.strip()


def stripe_secret_key(name: str = STRIPE_SECRET_KEY_BLOCK) -> str:
    """The Stripe secret key from its Secret block (ConfigError saying how to create it when missing)."""
    return _secret_text(name)


def stripe_webhook_secrets(name: str = STRIPE_WEBHOOK_SECRET_BLOCK) -> list[str]:
    """The webhook signing secret(s): one, or the new and the old one during a rotation."""
    secrets = [s.strip() for s in _secret_text(name).split(",") if s.strip()]
    if not all(s.startswith("whsec_") for s in secrets):
        raise ConfigError(f"the Prefect block '{name}' must hold Stripe signing secrets (whsec_…)")
    return secrets


def stripe_api_base() -> str:
    """The Stripe API base URL (the Variable, else Stripe itself), validated (https unless loopback)."""
    value = Variable.get(STRIPE_API_BASE_VARIABLE, default=None)
    url = validate_base_url(str(value) if value else STRIPE_API_BASE)
    assert url is not None
    return url


def stripe_gateway(retry: RetryPolicy | None = None) -> StripeGateway:
    """A `StripeGateway` built from the saved secret key and API base URL."""
    return StripeGateway(stripe_secret_key(), base_url=stripe_api_base(), retry=retry)


def save_stripe_settings(*, secret_key: str | None, webhook_secret: str | None, api_base: str) -> list[str]:
    """Save what is given (blocks overwritten, the Variable set); returns the names saved."""
    url = validate_base_url(api_base)
    if secret_key is not None and not secret_key.startswith(("sk_", "rk_")):
        raise ConfigError("the Stripe secret key must start with sk_ or rk_ (a secret or restricted key)")
    if webhook_secret is not None and not all(
        s.strip().startswith("whsec_") for s in webhook_secret.split(",")
    ):
        raise ConfigError("the Stripe webhook signing secret must start with whsec_")
    saved: list[str] = []
    if secret_key is not None:
        Secret(value=secret_key).save(STRIPE_SECRET_KEY_BLOCK, overwrite=True)
        saved.append(STRIPE_SECRET_KEY_BLOCK)
    if webhook_secret is not None:
        Secret(value=webhook_secret).save(STRIPE_WEBHOOK_SECRET_BLOCK, overwrite=True)
        saved.append(STRIPE_WEBHOOK_SECRET_BLOCK)
    Variable.set(STRIPE_API_BASE_VARIABLE, url, overwrite=True)
    saved.append(STRIPE_API_BASE_VARIABLE)
    return saved


class StripeConnectCredentials(ProviderAppCredentials):
    """The platform's Stripe Connect settings: its Connect client id (`ca_…`), the redirect URI registered in
    the Connect settings, and the environment. The OAuth client secret is the platform's secret key: unless
    given here, it is read from the `sierra-stripe-secret-key` block (one place for the key)."""

    _block_type_name = "Sierra Stripe Connect"
    _block_type_slug = "sierra-stripe-connect"
    _description = (
        "Stripe Connect OAuth settings (client id, redirect URI) of the sierra-sync platform account."
    )
    provider: ClassVar[Provider] = STRIPE

    client_id: str = Field(description="The platform's Connect client id (ca_…), from the Connect settings.")
    redirect_uri: str = Field(
        default=LOCAL_STRIPE_REDIRECT_URI,
        description="Redirect URI registered in the Connect settings; the OAuth callback of the web app.",
    )

    def client_secret_value(self) -> str:
        if self.client_secret is not None:
            return self.client_secret.get_secret_value()
        return stripe_secret_key()
