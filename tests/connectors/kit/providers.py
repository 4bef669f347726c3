"""Provider declarations for the kit's own tests: each auth and webhook shape the kit must handle."""

from __future__ import annotations

from connectors.kit.provider import Endpoints, OAuth2, Provider, Refresh, TokenFields, Webhooks

BASE = "https://auth.example.test"


def oauth_provider(**auth: object) -> Provider:
    """A provider whose OAuth declaration is the defaults overridden by `auth`."""
    fields: dict[str, object] = {
        "mode": "code_pkce",
        "environments": {
            "production": Endpoints(
                authorize=f"{BASE}/authorize",
                token=f"{BASE}/token",
                revoke=f"{BASE}/revoke",
                userinfo=f"{BASE}/me",
                api_base="https://api.example.test",
            )
        },
        "scopes": ("read", "write"),
        **auth,
    }
    return Provider(name="other", title="Example", category="storage", auth=OAuth2(**fields))


ROTATING = oauth_provider(refresh=Refresh(kind="rotating_grace", grace_s=1800, lifetime_s=60 * 86_400))
NON_ROTATING = oauth_provider(refresh=Refresh(kind="non_rotating"))
JSON_BODY = oauth_provider(
    token_auth="body",
    token_encoding="json",
    token=TokenFields(expires="expires_at", extras={"external_company_id": "merchant_id"}),
)
STRIPE_LIKE = Webhooks(
    scheme="hmac_timestamped",
    header="Stripe-Signature",
    signature_item="v1",
    signed_format="{timestamp}.{body}",
)
SLACK_LIKE = Webhooks(
    scheme="hmac_timestamped",
    header="X-Slack-Signature",
    timestamp_header="X-Slack-Request-Timestamp",
    signed_format="v0:{timestamp}:{body}",
    signature_prefix="v0=",
    handshake="challenge_echo",
)
INTUIT_LIKE = Webhooks(scheme="hmac_body", header="intuit-signature", encoding="base64")
SQUARE_LIKE = Webhooks(scheme="hmac_url_body", header="x-square-hmacsha256-signature", encoding="base64")
GOOGLE_LIKE = Webhooks(scheme="shared_secret", header="X-Goog-Channel-Token", handshake="sync_message")
DROPBOX_LIKE = Webhooks(scheme="hmac_body", header="X-Dropbox-Signature", handshake="challenge_echo")
GRAPH_LIKE = Webhooks(scheme="shared_secret", header="clientState", handshake="validation_token")
