"""Xero, declared for the provider kit (Xero Identity's OAuth 2.0, the Accounting API 2.0, webhooks).

* Authorization code with PKCE (S256) and `offline_access` (a refresh token); scopes space-separated. The
  token and revocation endpoints take the app's id and secret as HTTP Basic (confidential apps).
* After the code exchange, `GET https://api.xero.com/connections` lists the organisations (tenants) the
  consent reached: one is taken at once; of several, a person chooses (`connectors.kit.connect.
  choose_tenant`). The tenant id is the connection's `external_company_id`, sent as `xero-tenant-id`.
* Access tokens live 30 minutes. Every refresh returns a new refresh token; the one just used keeps working
  for a 30-minute grace; an unused refresh token dies after 60 days (the kit's keep-alive refreshes it at 30).
* Per organisation: 60 calls a minute, 5,000 a day, 5 at a time; per app: 10,000 a minute.
* Webhooks: `x-xero-signature` = base64(HMAC-SHA256(raw body, webhook key)); Xero first sends an
  "intent to receive": a signed empty event list must get 200, a badly signed one 401, within 5 seconds.
"""

from __future__ import annotations

from connectors.kit.provider import Endpoints, OAuth2, PostConnect, Provider, Rate, Refresh, Webhooks

__all__ = ["API_PATH", "SCOPES", "XERO"]

API_PATH = "/api.xro/2.0"
SCOPES = (
    "openid",
    "profile",
    "email",
    "accounting.transactions",
    "accounting.contacts",
    "accounting.settings",
    "accounting.attachments",  # the invoice PDF goes up as an attachment (PUT …/Attachments/{FileName})
    "offline_access",
)
_IDENTITY = "https://identity.xero.com"

XERO = Provider(
    name="xero",
    title="Xero",
    category="accounting",
    docs_url="https://developer.xero.com/documentation/guides/oauth2/auth-flow",
    auth=OAuth2(
        mode="code_pkce",
        environments={
            "production": Endpoints(
                authorize="https://login.xero.com/identity/connect/authorize",
                token=f"{_IDENTITY}/connect/token",
                revoke=f"{_IDENTITY}/connect/revocation",
                userinfo=f"{_IDENTITY}/connect/userinfo",
                post_connect="https://api.xero.com/connections",
                api_base=f"https://api.xero.com{API_PATH}",
            ),
            "local": Endpoints(
                authorize="{base}/identity/connect/authorize",
                token="{base}/connect/token",
                revoke="{base}/connect/revocation",
                userinfo="{base}/connect/userinfo",
                post_connect="{base}/connections",
                api_base="{base}" + API_PATH,
            ),
        },
        scopes=SCOPES,
        scope_separator=" ",
        token_auth="basic",
        token_encoding="form",
        revoke_auth="basic",
        revoke_encoding="form",
        revoke_body={"token": "{token}"},
        post_connect=PostConnect(tenant_path="*.tenantId", name_path="*.tenantName", choose="person"),
        refresh=Refresh(kind="rotating_grace", grace_s=1800, lifetime_s=60 * 86_400, margin_s=300),
    ),
    rate=Rate(
        requests_per_minute=60,
        requests_per_day=5000,
        concurrent=5,
        app_requests_per_minute=10_000,
        retry_after_default_s=60,
    ),
    webhooks=Webhooks(
        scheme="hmac_body",
        header="x-xero-signature",
        algorithm="sha256",
        encoding="base64",
        secret="webhook_secret",
        handshake="intent_to_receive",
    ),
)
