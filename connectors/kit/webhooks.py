"""Webhook proofs for any declared provider, checked over the raw body in constant time, with reasons that
are safe to log and to answer with (never a secret or a signature).

`verify(spec, body, headers, secrets, now=..., url=...)` applies the provider's declared scheme:

* `hmac_body`: HMAC(secret, body) in `header` (QuickBooks' intuit-signature, Xero's x-xero-signature,
  DocuSign, Dropbox);
* `hmac_url_body`: HMAC(secret, notification URL + body) (Square);
* `hmac_timestamped`: HMAC(secret, signed_format filled with the timestamp and the body), with a replay
  window (Stripe's `t=...,v1=...`, Slack's v0 with X-Slack-Request-Timestamp);
* `shared_secret`: the header carries a secret we chose, compared as is (Google channel tokens, Graph's
  clientState).

Several secrets may be given (a rotation in progress): any one of them may match.
`handshake_answer` answers the providers' verification handshakes (Dropbox's challenge, Graph's
validationToken, Slack's url_verification, Adobe Sign's client id echo) before any event is stored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.kit.provider import Webhooks

__all__ = ["HandshakeAnswer", "SignatureError", "handshake_answer", "verify"]


class SignatureError(Exception):
    """The request is not provably from the sender. `reason` is safe to log and to answer with;
    `status` is 400 (malformed header) or 401 (missing, wrong or stale signature)."""

    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def _header(headers: Mapping[str, str], name: str | None) -> str | None:
    if not name:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _digest(spec: Webhooks, secret: str, message: bytes) -> bytes:
    algorithm = hashlib.sha256 if spec.algorithm == "sha256" else hashlib.sha1
    return hmac.new(secret.encode(), message, algorithm).digest()


def _decode(spec: Webhooks, value: str, header: str) -> bytes:
    text = value.strip()
    if spec.signature_prefix and text.startswith(spec.signature_prefix):
        text = text[len(spec.signature_prefix) :]
    try:
        if spec.encoding == "base64":
            return base64.b64decode(text, validate=True)
        return bytes.fromhex(text)
    except (binascii.Error, ValueError):
        raise SignatureError(f"malformed {header} header (not {spec.encoding})", 400) from None


def _matches(candidates: Sequence[bytes], expected: Sequence[bytes]) -> bool:
    # Compare every candidate with every digest: no early exit that would time the match.
    matched = False
    for candidate in candidates:
        for digest in expected:
            matched |= hmac.compare_digest(candidate, digest)
    return matched


def _items(value: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in value.split(","):
        key, sep, val = item.strip().partition("=")
        if sep:
            out.setdefault(key.strip(), []).append(val.strip())
    return out


def _signed(spec: Webhooks, timestamp: str, body: bytes) -> bytes:
    before, _, after = spec.signed_format.partition("{body}")
    return before.format(timestamp=timestamp).encode() + body + after.format(timestamp=timestamp).encode()


def _timestamped(
    spec: Webhooks, value: str, headers: Mapping[str, str], body: bytes, secrets: Sequence[str], now: float
) -> None:
    assert spec.header is not None
    if spec.signature_item:
        items = _items(value)
        stamps = items.get("t", [])
        raw_signatures = items.get(spec.signature_item, [])
        if not stamps or not raw_signatures:
            raise SignatureError(f"malformed {spec.header} header (needs t= and {spec.signature_item}=)", 400)
        stamp = stamps[0]
    else:
        stamp = _header(headers, spec.timestamp_header) or ""
        raw_signatures = [value]
        if not stamp:
            raise SignatureError(f"missing {spec.timestamp_header} header")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureError(f"malformed {spec.header} timestamp", 400) from None
    candidates = [_decode(spec, s, spec.header) for s in raw_signatures]
    expected = [_digest(spec, secret, _signed(spec, stamp, body)) for secret in secrets]
    if not _matches(candidates, expected):
        raise SignatureError(f"{spec.header} does not match the payload")
    if abs(now - timestamp) > spec.tolerance_s:
        raise SignatureError(f"{spec.header} timestamp is outside the {spec.tolerance_s} s tolerance")


def verify(
    spec: Webhooks,
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    *,
    now: float,
    url: str | None = None,
) -> None:
    """Raise `SignatureError` unless `body` provably comes from the provider (see the module docstring).
    `url` is the notification URL the provider was given (the `hmac_url_body` scheme signs it)."""
    if spec.scheme == "none":
        raise SignatureError("this provider sends no webhooks", 404)
    if not secrets:
        raise SignatureError("no webhook secret is configured for this provider", 503)
    assert spec.header is not None  # the declaration checks it
    value = _header(headers, spec.header)
    if not value:
        raise SignatureError(f"missing {spec.header} header")
    if spec.scheme == "shared_secret":
        given = value.strip().encode()
        if not _matches([given], [s.encode() for s in secrets]):
            raise SignatureError(f"{spec.header} does not match")
        return
    if spec.scheme == "hmac_timestamped":
        _timestamped(spec, value, headers, body, secrets, now)
        return
    if spec.scheme == "hmac_url_body":
        if not url:
            raise SignatureError("the notification URL is needed to check this signature", 503)
        message = url.encode() + body
    else:
        message = body
    candidate = _decode(spec, value, spec.header)
    if not _matches([candidate], [_digest(spec, secret, message) for secret in secrets]):
        raise SignatureError(f"{spec.header} does not match the payload")


@dataclass(frozen=True)
class HandshakeAnswer:
    """What to answer a verification handshake with (no event is stored)."""

    status: int = 200
    body: bytes = b""
    media_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)


def _json_object(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def handshake_answer(
    spec: Webhooks,
    method: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    verified: bool,
) -> HandshakeAnswer | None:
    """The answer to a handshake request, or None when the request is an ordinary delivery.

    Handshakes that carry no proof (Dropbox's GET challenge, Graph's validationToken, Adobe Sign's GET) are
    answered before verification; body-borne ones (Slack's url_verification) only once `verified`.
    """
    kind = spec.handshake
    if kind == "challenge_echo":
        if method == "GET" and "challenge" in query:  # Dropbox
            return HandshakeAnswer(
                body=query["challenge"].encode(), headers={"X-Content-Type-Options": "nosniff"}
            )
        doc = _json_object(body) if body and verified else None
        if isinstance(doc, dict) and doc.get("type") == "url_verification" and "challenge" in doc:  # Slack
            return HandshakeAnswer(body=str(doc["challenge"]).encode())
    if kind == "validation_token" and "validationToken" in query:  # Microsoft Graph
        return HandshakeAnswer(body=query["validationToken"].encode())
    if kind == "client_id_echo":  # Adobe Sign
        client_id = _header(headers, "X-AdobeSign-ClientId")
        if client_id and method == "GET":
            return HandshakeAnswer(
                body=json.dumps({"xAdobeSignClientId": client_id}).encode(),
                media_type="application/json",
                headers={"X-AdobeSign-ClientId": client_id},
            )
    return None
