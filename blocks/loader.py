"""Load the saved blocks, turning "not found" into one line that says how to create them."""

from __future__ import annotations

from typing import TypeVar

from prefect.blocks.core import Block

from blocks.encryption import TokenEncryptionKeys
from blocks.quickbooks import QuickBooksAppCredentials
from sierra_core.errors import ConfigError

B = TypeVar("B", bound=Block)

QBO_APP_BLOCK = "sierra-quickbooks-app"
TOKEN_KEYS_BLOCK = "sierra-token-keys"  # noqa: S105 - a block name


def load_block(cls: type[B], name: str) -> B:
    try:
        block = cls.load(name, validate=True)
    except ValueError as err:
        if "Unable to find block document" in str(err) or "not found" in str(err).lower():
            raise ConfigError(
                f"the Prefect block '{name}' ({cls.__name__}) does not exist; "
                "create it with `sierra-sync blocks setup` (add --local for the local sandbox)"
            ) from None
        raise ConfigError(f"the Prefect block '{name}' cannot be loaded: {err}") from None
    if not isinstance(block, cls):  # pragma: no cover - load() returns cls instances
        raise ConfigError(f"the Prefect block '{name}' is not a {cls.__name__}")
    return block


def quickbooks_app(name: str = QBO_APP_BLOCK) -> QuickBooksAppCredentials:
    return load_block(QuickBooksAppCredentials, name)


def token_keys(name: str = TOKEN_KEYS_BLOCK) -> TokenEncryptionKeys:
    return load_block(TokenEncryptionKeys, name)
