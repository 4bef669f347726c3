"""Intuit OAuth 2.0 as the sandbox plays it, declared for the kit's OAuth server (`sandbox.kit.oauth`).

Discovery, authorize (auto-consent), token, revoke, userinfo and the id_token's JWKS at Intuit's paths. A
refresh returns the grant's current refresh token; its value changes once per `refresh_rotation_interval_s`
(or on every refresh with `refresh_rotation="always"`), and a superseded one keeps working for
`refresh_grace_s`. Error bodies are Intuit's: `{"error": "invalid_grant", "error_description": "Token
invalid"}` (400), `{"error": "invalid_client"}` (401).
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from sandbox.kit.oauth import OAuthPaths, OAuthSpec, OidcSpec
from sandbox.quickbooks.options import SandboxOptions

__all__ = ["KNOWN_SCOPES", "oauth_spec"]

KNOWN_SCOPES = frozenset(
    {
        "com.intuit.quickbooks.accounting",
        "com.intuit.quickbooks.payment",
        "openid",
        "profile",
        "email",
        "phone",
        "address",
    }
)
# Intuit's access tokens are JWEs with this protected header ({"enc":"A128CBC-HS256","alg":"dir"}); built at
# import so the source holds no token-shaped text.
JWE_HEADER = base64.urlsafe_b64encode(b'{"enc":"A128CBC-HS256","alg":"dir"}').decode().rstrip("=")
PATHS = OAuthPaths(
    authorize="/connect/oauth2",
    token="/oauth2/v1/tokens/bearer",  # noqa: S106 - a path
    revoke=("/v2/oauth2/tokens/revoke", "/oauth2/v1/tokens/revoke"),
    userinfo="/v1/openid_connect/userinfo",
    discovery=("/.well-known/openid_configuration", "/.well-known/openid-configuration"),
)
DISCOVERY_EXTRA: dict[str, Any] = {
    "subject_types_supported": ["public"],
    "id_token_signing_alg_values_supported": ["RS256"],
    "scopes_supported": ["openid", "email", "profile", "address", "phone"],
    "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
    "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
}


def _access_token() -> str:
    return JWE_HEADER + ".." + secrets.token_urlsafe(96)


def _userinfo(realm_id: str) -> dict[str, Any]:
    return {
        "sub": f"sandbox-user-{realm_id}",
        "email": "sandbox@example.com",
        "emailVerified": True,
        "givenName": "Sandbox",
        "familyName": "User",
    }


def rotation_interval(options: SandboxOptions, mode: str) -> int:
    """The kit's rotation interval for QBO's `refresh_rotation` ("daily": the option's interval; "always")."""
    return 0 if mode == "always" else options.refresh_rotation_interval_s


def oauth_spec(options: SandboxOptions) -> OAuthSpec:
    """Intuit's OAuth server with the sandbox's options."""
    return OAuthSpec(
        client_id=options.client_id,
        client_secret=options.client_secret,
        paths=PATHS,
        token_auth="either",  # noqa: S106 - a mode
        scopes=KNOWN_SCOPES,
        needs_one_of=frozenset(
            {"com.intuit.quickbooks.accounting", "com.intuit.quickbooks.payment", "openid"}
        ),
        tenant_param="realmId",
        tenant_request_param="realm_id",
        tenant_key="realm_id",
        rotation="rotating_grace",
        rotation_interval_s=rotation_interval(options, options.refresh_rotation),
        grace_s=options.refresh_grace_s,
        code_ttl_s=options.auth_code_ttl_s,
        access_ttl_s=options.access_token_ttl_s,
        refresh_ttl_s=options.refresh_token_ttl_s,
        refresh_hard_ttl_s=options.refresh_token_hard_ttl_s,
        refresh_expires_field="x_refresh_token_expires_in",
        refresh_hard_expires_field="x_refresh_token_hard_expires_in",
        hard_expires_header="x-include-refresh-token-hard-expires-in",
        consent=options.consent,
        code_prefix="AB11",
        refresh_prefix="RT1-",
        access_token=_access_token,
        token_content_type="application/json;charset=utf-8",  # noqa: S106 - a media type
        oidc=OidcSpec(issuer_path="/op/v1", jwks_path="/op/v1/jwks", tenant_claim="realmid"),
        discovery_extra=DISCOVERY_EXTRA,
        userinfo=_userinfo,
    )
