"""AES-256-GCM sealing of credentials at rest, with key ids so keys can rotate.

A sealed value is text: ``v1.<key id>.<base64url(12-byte nonce | ciphertext | 16-byte tag)>``. The
associated data binds it to where it lives (e.g. ``integrations:<id>:refresh_token``), so a ciphertext
copied into another row or column fails to open. The newest key seals; every key in the ring opens.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sierra_core.errors import ConfigError, SierraError

VERSION = "v1"
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class DecryptionError(SierraError):
    """A sealed value cannot be opened: unknown key id, wrong key, tampered data or wrong context."""


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def generate_key() -> str:
    """A new random 256-bit key, base64url-encoded (what the key block stores)."""
    return _b64e(os.urandom(32))


@dataclass(frozen=True)
class KeyEntry:
    key_id: str
    key: bytes
    created_at: datetime


class Keyring:
    """Named 256-bit keys; the newest (by created_at) seals, all open. Key material never appears in repr."""

    def __init__(self, entries: list[KeyEntry]) -> None:
        if not entries:
            raise ConfigError("the token-encryption key block has no keys; run `sierra-sync blocks setup`")
        for entry in entries:
            if not KEY_ID.match(entry.key_id):
                raise ConfigError(f"encryption key id {entry.key_id!r} must be 1-64 letters, digits, - or _")
            if len(entry.key) != 32:
                raise ConfigError(f"encryption key {entry.key_id!r} is not 256 bits; generate a new one")
        self._keys = {e.key_id: e for e in entries}
        self.current = max(entries, key=lambda e: (e.created_at, e.key_id))

    @classmethod
    def from_encoded(cls, keys: Mapping[str, str], created: Mapping[str, datetime]) -> Keyring:
        """Build from base64url key text per id and creation times per id (the block's shape)."""
        entries = []
        for key_id, text in keys.items():
            try:
                raw = _b64d(text)
            except (ValueError, TypeError):
                raise ConfigError(
                    f"encryption key {key_id!r} is not valid base64; generate a new one"
                ) from None
            if key_id not in created:
                raise ConfigError(f"encryption key {key_id!r} has no creation date in the key block")
            entries.append(KeyEntry(key_id, raw, created[key_id]))
        return cls(entries)

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._keys)

    def __repr__(self) -> str:
        return f"Keyring(current={self.current.key_id!r}, ids={self.key_ids!r})"

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self.current.key).encrypt(nonce, plaintext.encode(), context.encode())
        return f"{VERSION}.{self.current.key_id}.{_b64e(nonce + sealed)}"

    def open(self, token: str, context: str) -> str:
        try:
            version, key_id, body = token.split(".", 2)
        except ValueError:
            raise DecryptionError("a stored credential is not in the sealed format; re-authorize") from None
        if version != VERSION:
            raise DecryptionError(
                f"a stored credential uses format {version!r}, which this version cannot open"
            )
        entry = self._keys.get(key_id)
        if entry is None:
            raise DecryptionError(
                f"a stored credential was sealed with key {key_id!r}, which is not in the key block; "
                "restore that key or re-authorize the connection"
            )
        raw = _b64d(body)
        try:
            return AESGCM(entry.key).decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag:
            raise DecryptionError(
                f"a stored credential does not open with key {key_id!r} (tampered or moved); re-authorize"
            ) from None

    @staticmethod
    def key_id_of(token: str) -> str | None:
        parts = token.split(".", 2)
        return parts[1] if len(parts) == 3 else None
