"""The token-encryption key block: named 256-bit keys; the newest seals, every key opens."""

from __future__ import annotations

from datetime import datetime

from prefect.blocks.core import Block
from prefect.types import SecretDict
from pydantic import Field

from sierra_core.crypto import Keyring, generate_key
from sierra_core.db.types import utcnow
from sierra_core.errors import ConfigError


class TokenEncryptionKeys(Block):
    """AES-256-GCM keys that seal OAuth tokens and other credentials stored in the app database.

    `keys` maps a key id to a base64url 256-bit key (secret); `created` maps the same ids to their creation
    time. The newest key seals new values; keep old keys until `sierra-sync keys rotate` has re-sealed
    everything with the newest one."""

    _block_type_name = "Sierra Token Encryption Keys"
    _block_type_slug = "sierra-token-encryption-keys"
    _description = "256-bit keys (with ids) that seal the per-company OAuth tokens stored by sierra-sync."

    keys: SecretDict = Field(description="Key id -> base64url-encoded 256-bit AES key.")
    created: dict[str, datetime] = Field(description="Key id -> when the key was created (the newest seals).")

    @classmethod
    def with_new_key(cls) -> TokenEncryptionKeys:
        """A block holding one freshly generated key."""
        key_id = _new_key_id()
        return cls(keys=SecretDict({key_id: generate_key()}), created={key_id: utcnow()})

    def add_key(self) -> str:
        """Generate a new key, make it the newest, and return its id (save the block afterwards)."""
        key_id = _new_key_id()
        values = dict(self.keys.get_secret_value())
        values[key_id] = generate_key()
        self.keys = SecretDict(values)
        self.created = {**self.created, key_id: utcnow()}
        return key_id

    def keyring(self) -> Keyring:
        values = self.keys.get_secret_value()
        if not isinstance(values, dict) or not values:
            raise ConfigError("the token-encryption key block holds no keys; run `sierra-sync blocks setup`")
        return Keyring.from_encoded({str(k): str(v) for k, v in values.items()}, self.created)

    def newest_key_age_days(self, now: datetime | None = None) -> float:
        newest = max(self.created.values())
        return ((now or utcnow()) - newest).total_seconds() / 86400


def _new_key_id() -> str:
    return "k" + utcnow().strftime("%Y%m%d%H%M%S%f")
