"""OpenID Connect id_tokens (RS256) and the JWKS that verifies them (e.g. Intuit's, with the `openid` scope).

One RSA key per sandbox process, made on first use (a restarted sandbox has a new key: re-fetch the JWKS).
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = ["Signer"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _uint(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class Signer:
    """Signs id_tokens and publishes the public key."""

    def __init__(self) -> None:
        self._key: rsa.RSAPrivateKey | None = None
        self.kid = secrets.token_hex(8)

    def _private(self) -> rsa.RSAPrivateKey:
        if self._key is None:
            self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self._key

    def jwks(self) -> dict[str, Any]:
        """The key set of /op/v1/jwks."""
        numbers = self._private().public_key().public_numbers()
        key = {
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": self.kid,
            "n": _uint(numbers.n),
            "e": _uint(numbers.e),
        }
        return {"keys": [key]}

    def id_token(
        self, issuer: str, client_id: str, tenant_id: str, now: float, ttl_s: int, tenant_claim: str
    ) -> str:
        """A signed id_token (sub, aud, the tenant under `tenant_claim` (Intuit: realmid), iss, iat, exp,
        auth_time)."""
        header = {"alg": "RS256", "kid": self.kid, "typ": "JWT"}
        claims = {
            "sub": f"sandbox-user-{tenant_id}",
            "aud": [client_id],
            tenant_claim: tenant_id,
            "auth_time": int(now),
            "iss": issuer,
            "exp": int(now) + ttl_s,
            "iat": int(now),
        }
        signing_input = (
            _b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64url(json.dumps(claims, separators=(",", ":")).encode())
        )
        signature = self._private().sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"
