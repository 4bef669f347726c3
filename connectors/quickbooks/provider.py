"""QuickBooks Online, declared for the provider kit (Intuit OAuth 2.0, the v3 accounting API, webhooks)."""

from __future__ import annotations

from connectors.kit.provider import Endpoints, OAuth2, Provider, Rate, Refresh, TokenFields, Webhooks

__all__ = ["ACCOUNTING_SCOPE", "QUICKBOOKS"]

ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
_AUTHORIZE = "https://appcenter.intuit.com/connect/oauth2"
_TOKEN = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
_REVOKE = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
_USERINFO = "https://accounts.platform.intuit.com/v1/openid_connect/userinfo"

QUICKBOOKS = Provider(
    name="quickbooks_online",
    title="QuickBooks Online",
    category="accounting",
    docs_url="https://developer.intuit.com/app/developer/qbo/docs/develop",
    auth=OAuth2(
        mode="code_pkce",
        environments={
            "production": Endpoints(
                authorize=_AUTHORIZE,
                token=_TOKEN,
                revoke=_REVOKE,
                userinfo=_USERINFO,
                discovery="https://developer.api.intuit.com/.well-known/openid_configuration",
                api_base="https://quickbooks.api.intuit.com",
            ),
            "sandbox": Endpoints(
                authorize=_AUTHORIZE,
                token=_TOKEN,
                revoke=_REVOKE,
                userinfo="https://sandbox-accounts.platform.intuit.com/v1/openid_connect/userinfo",
                discovery="https://developer.api.intuit.com/.well-known/openid_sandbox_configuration",
                api_base="https://sandbox-quickbooks.api.intuit.com",
            ),
            "local": Endpoints(
                authorize="{base}/connect/oauth2",
                token="{base}/oauth2/v1/tokens/bearer",
                revoke="{base}/v2/oauth2/tokens/revoke",
                userinfo="{base}/v1/openid_connect/userinfo",
                discovery="{base}/.well-known/openid_configuration",
                api_base="{base}",
            ),
        },
        scopes=(ACCOUNTING_SCOPE,),
        token_auth="basic",
        token_encoding="form",
        revoke_encoding="json",
        revoke_auth="basic",
        callback_tenant_param="realmId",
        token=TokenFields(
            expires="expires_in",
            refresh_expires_in="x_refresh_token_expires_in",
            refresh_hard_expires_in="x_refresh_token_hard_expires_in",
        ),
        # Intuit changes the refresh token's value about once a day; the previous one keeps working for
        # about a day, and an unused one dies after 100 days (the keep-alive refresh runs long before).
        refresh=Refresh(kind="rotating_grace", grace_s=86_400, lifetime_s=100 * 86_400),
    ),
    rate=Rate(requests_per_minute=500, concurrent=10, batch_per_minute=40, retry_after_default_s=60),
    webhooks=Webhooks(scheme="hmac_body", header="intuit-signature", encoding="base64"),
)
