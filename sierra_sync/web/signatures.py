"""Webhook signature checks over the raw request body, in constant time, with secret-free reasons.

* Stripe: `Stripe-Signature: t=<unix>,v1=<hex>`; v1 = HMAC-SHA256(secret, f"{t}.{body}"). Any `v1` matching
  any configured secret passes (Stripe sends several during a secret rotation); a timestamp more than
  `tolerance` seconds away from our clock is refused (replays).
* Intuit: `intuit-signature` = base64(HMAC-SHA256(verifier token, body)).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

__all__ = ["STRIPE_TOLERANCE_SECONDS", "SignatureError", "verify_intuit", "verify_stripe"]

STRIPE_TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """The request is not provably from the sender. `reason` is safe to log and to answer with;
    `status` is 400 (malformed header) or 401 (missing, wrong or stale signature)."""

    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def verify_stripe(
    body: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    now: float,
    tolerance: int = STRIPE_TOLERANCE_SECONDS,
) -> int:
    """Check a Stripe-Signature header; returns its timestamp or raises `SignatureError`."""
    if not header:
        raise SignatureError("missing Stripe-Signature header")
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureError("malformed Stripe-Signature timestamp", 400) from None
        elif key == "v1":
            candidates.append(value.strip())
    if timestamp is None or not candidates:
        raise SignatureError("malformed Stripe-Signature header (needs t= and v1=)", 400)
    signed = f"{timestamp}.".encode() + body
    expected = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets]
    # Compare every candidate with every secret: no early exit that would time the match.
    matched = False
    for candidate in candidates:
        for digest in expected:
            matched |= hmac.compare_digest(candidate.encode(), digest.encode())
    if not matched:
        raise SignatureError("Stripe-Signature does not match the payload")
    if abs(now - timestamp) > tolerance:
        raise SignatureError(f"Stripe-Signature timestamp is outside the {tolerance} s tolerance")
    return timestamp


def verify_intuit(body: bytes, header: str | None, verifier_token: str) -> None:
    """Check an intuit-signature header or raise `SignatureError`."""
    if not header:
        raise SignatureError("missing intuit-signature header")
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("malformed intuit-signature header (not base64)", 400) from None
    expected = hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()
    if not hmac.compare_digest(given, expected):
        raise SignatureError("intuit-signature does not match the payload")
