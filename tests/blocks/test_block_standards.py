"""Every block: documented, secrets as secret types, saves and loads, never shows a secret."""

from __future__ import annotations

import typing

import pytest
from prefect.types import SecretDict
from pydantic import SecretStr

from blocks import ALL_BLOCKS, QuickBooksAppCredentials, StripeConnectCredentials, TokenEncryptionKeys
from blocks.loader import load_block
from sierra_core.errors import ConfigError

SECRET_FIELDS = {
    QuickBooksAppCredentials: {"client_secret", "webhook_verifier_token"},
    StripeConnectCredentials: {"client_secret"},
    TokenEncryptionKeys: {"keys"},
}


def _examples():
    return {
        QuickBooksAppCredentials: QuickBooksAppCredentials(
            client_id="local-client",
            client_secret=SecretStr("top-secret-value"),
            environment="local",
            webhook_verifier_token=SecretStr("verifier-secret-value"),
        ),
        StripeConnectCredentials: StripeConnectCredentials(
            client_id="ca_example", client_secret=SecretStr("sk_test_top-secret-value"), environment="local"
        ),
        TokenEncryptionKeys: TokenEncryptionKeys.with_new_key(),
    }


def _is_secret(annotation: object) -> bool:
    args = typing.get_args(annotation) or (annotation,)
    return any(a in (SecretStr, SecretDict) for a in args)


@pytest.mark.parametrize("block", ALL_BLOCKS)
def test_block_is_documented(block):
    assert block.__doc__ and len(block.__doc__) > 40
    assert block._description
    assert block._block_type_slug.startswith("sierra-")
    for name, field in block.model_fields.items():
        assert field.description, f"{block.__name__}.{name} has no description"


@pytest.mark.parametrize("block", ALL_BLOCKS)
def test_secret_fields_use_secret_types(block):
    secret = {n for n, f in block.model_fields.items() if _is_secret(f.annotation)}
    assert secret == SECRET_FIELDS[block]


@pytest.mark.parametrize("block", ALL_BLOCKS)
def test_block_round_trips_and_hides_secrets(prefect_api, block):
    example = _examples()[block]
    name = f"standards-{block._block_type_slug}"
    example.save(name, overwrite=True)
    loaded = block.load(name)
    assert loaded.model_dump() == example.model_dump()
    shown = repr(loaded) + str(loaded.model_dump())
    if isinstance(loaded, StripeConnectCredentials):
        assert loaded.client_secret_value() == "sk_test_top-secret-value"
        assert "top-secret-value" not in shown
    if isinstance(loaded, QuickBooksAppCredentials):
        assert loaded.client_secret.get_secret_value() == "top-secret-value"
        assert "top-secret-value" not in shown and "verifier-secret-value" not in shown
    if isinstance(loaded, TokenEncryptionKeys):
        key = next(iter(loaded.keys.get_secret_value().values()))
        assert key not in shown
        assert loaded.keyring().current.key_id in loaded.created


def test_missing_block_is_one_actionable_error(prefect_api):
    with pytest.raises(ConfigError, match="sierra-sync blocks setup"):
        load_block(QuickBooksAppCredentials, "no-such-block")


def test_plain_http_is_refused_outside_loopback():
    block = QuickBooksAppCredentials(
        client_id="x",
        client_secret=SecretStr("y"),
        environment="local",
        local_base_url="http://qbo.example.com",
    )
    with pytest.raises(ConfigError, match="https"):
        block.oauth_app()


def test_key_block_rotation_makes_the_new_key_current():
    keys = TokenEncryptionKeys.with_new_key()
    first = keys.keyring().current.key_id
    added = keys.add_key()
    assert added != first
    assert keys.keyring().current.key_id == added
    assert set(keys.keyring().key_ids) == {first, added}


@pytest.mark.parametrize("environment", ["production", "sandbox"])
def test_a_real_intuit_app_needs_an_https_redirect_uri_unless_loopback(environment):
    def app(redirect_uri: str) -> object:
        block = QuickBooksAppCredentials(
            client_id="x", client_secret=SecretStr("y"), environment=environment, redirect_uri=redirect_uri
        )
        return block.oauth_app()

    with pytest.raises(ConfigError, match=r"redirect URI .* must use https") as err:
        app("http://example.com/oauth/quickbooks/callback")
    assert "\n" not in str(err.value)
    for ok in (
        "https://sync.example.com/oauth/quickbooks/callback",
        "http://localhost:8703/oauth/quickbooks/callback",
        "http://127.0.0.1:8703/oauth/quickbooks/callback",
        "http://[::1]:8703/oauth/quickbooks/callback",
    ):
        assert app(ok)
