"""Xero's identity server and webhooks, declared for the sandbox kit.

Authorization code with PKCE (S256) and `offline_access`; the app authenticates with HTTP Basic (or, as
Xero's own SDK does, with client_id and client_secret in the form); access tokens live 30 minutes; every
refresh returns a new refresh token and the one just used keeps working for a 30-minute grace
(`identity.py`); an unused refresh token dies after 60 days. Webhooks carry `x-xero-signature`, the base64
HMAC-SHA256 of the raw body under the app's webhook key.
"""

from __future__ import annotations

from sandbox.kit.oauth import OAuthPaths, OAuthSpec
from sandbox.kit.spec import SandboxSpec
from sandbox.kit.webhooks import Signing
from sandbox.xero.identity import XeroOAuthServer

__all__ = ["API_PATH", "CLIENT_ID", "CLIENT_SECRET", "DEFAULT_PORT", "SCOPES", "SPEC", "xero_spec"]

API_PATH = "/api.xro/2.0"
DEFAULT_PORT = 8704
CLIENT_ID = "local-client"
CLIENT_SECRET = "local-secret"  # noqa: S105 - the documented local default
SCOPES = frozenset(
    {
        "openid",
        "profile",
        "email",
        "offline_access",
        "accounting.transactions",
        "accounting.transactions.read",
        "accounting.contacts",
        "accounting.contacts.read",
        "accounting.settings",
        "accounting.settings.read",
        "accounting.attachments",
        "accounting.attachments.read",
    }
)


def xero_spec(client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> SandboxSpec:
    """The Xero sandbox's spec for one developer app."""
    return SandboxSpec(
        name="xero",
        title="Xero",
        oauth=OAuthSpec(
            client_id=client_id,
            client_secret=client_secret,
            paths=OAuthPaths(
                authorize="/identity/connect/authorize",
                token="/connect/token",  # noqa: S106 - a path
                revoke=("/connect/revocation",),
                userinfo="/connect/userinfo",
                discovery=("/identity/.well-known/openid-configuration",),
            ),
            token_auth="either",  # noqa: S106 - Basic as documented; the official SDK posts them in the form
            scopes=SCOPES,
            needs_one_of=frozenset(s for s in SCOPES if s.startswith("accounting.")),
            tenant_param="tenantId",
            tenant_key="tenant_id",
            rotation="rotating_grace",
            rotation_interval_s=0,
            grace_s=1800,
            access_ttl_s=1800,
            refresh_ttl_s=60 * 86_400,
            token_type="Bearer",  # noqa: S106 - a token type
            invalid_grant_description=None,  # Xero Identity answers a bare {"error": "invalid_grant"}
        ),
        oauth_server=XeroOAuthServer,
        signing=Signing(scheme="hmac_body", header="x-xero-signature", encoding="base64"),
        webhook_secret_name="webhook_key",  # noqa: S106 - a field name
        scope_param="tenant",
        tenant_body_key="tenant_id",
        stats_key="tenants",
        default_port=DEFAULT_PORT,
    )


SPEC = xero_spec()
