"""Signed, expiring tokens: `<base64url(JSON claims)>.<base64url(HMAC-SHA256(secret, first part))>`.

Used for the session cookie (signed with the cookie secret) and read for the host SaaS's hand-off token
(signed with the shared hand-off secret; see docs/hub.md). Claims carry `exp` (Unix seconds)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["sign", "unsign"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), body.encode("ascii"), hashlib.sha256).digest())


def sign(secret: str, claims: Mapping[str, Any]) -> str:
    body = _b64(json.dumps(dict(claims), separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_mac(secret, body)}"


def unsign(secrets: Sequence[str], token: str, now: float) -> dict[str, Any] | None:
    """The claims of `token` if one of `secrets` signed it and it has not expired; else None."""
    body, dot, mac = token.strip().partition(".")
    if not dot or not body or len(token) > 8192 or not token.isascii():
        return None  # a token we signed is base64url text; anything else (a forged non-ASCII one) is refused
    if not any(hmac.compare_digest(_mac(s, body), mac) for s in secrets):
        return None
    try:
        claims = json.loads(_unb64(body))
    except ValueError:
        return None
    if not isinstance(claims, dict):
        return None
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool) or exp <= now:
        return None
    return claims
