"""Stripe, declared for the provider kit.

The installation's own account is reached with its secret key; a company may also connect its own Stripe
account through Stripe Connect OAuth (standard accounts): the platform's secret key is the OAuth client
secret, the token response names the account (`stripe_user_id`, kept as `external_company_id`), and API calls
for it carry `Stripe-Account`. Connect access tokens do not expire; disconnecting deauthorizes the account.
"""

from __future__ import annotations

from connectors.kit.provider import Endpoints, OAuth2, Provider, Rate, Refresh, TokenFields, Webhooks

__all__ = ["STRIPE"]

_CONNECT = "https://connect.stripe.com"

STRIPE = Provider(
    name="stripe",
    title="Stripe",
    category="payments",
    docs_url="https://docs.stripe.com/connect/oauth-reference",
    auth=OAuth2(
        mode="code",
        environments={
            "production": Endpoints(
                authorize=f"{_CONNECT}/oauth/authorize",
                token=f"{_CONNECT}/oauth/token",
                revoke=f"{_CONNECT}/oauth/deauthorize",
                api_base="https://api.stripe.com",
            ),
            "local": Endpoints(
                authorize="{base}/oauth/authorize",
                token="{base}/oauth/token",
                revoke="{base}/oauth/deauthorize",
                api_base="{base}",
            ),
        },
        scopes=("read_write",),
        token_auth="secret_body",
        revoke_auth="secret_basic",
        revoke_body={"client_id": "{client_id}", "stripe_user_id": "{external_company_id}"},
        token=TokenFields(expires="never", extras={"external_company_id": "stripe_user_id"}),
        refresh=Refresh(kind="none"),
    ),
    # Stripe allows 100 read and 100 write operations a second in live mode (25 in test mode).
    rate=Rate(requests_per_second=25, retry_after_default_s=1),
    webhooks=Webhooks(
        scheme="hmac_timestamped",
        header="Stripe-Signature",
        signature_item="v1",
        signed_format="{timestamp}.{body}",
        encoding="hex",
        tolerance_s=300,
    ),
)
