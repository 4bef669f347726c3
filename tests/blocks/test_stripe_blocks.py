"""Stripe credentials: two Prefect Secret blocks and the API base Variable; loaders give one clear error."""

from __future__ import annotations

import pytest
from prefect.blocks.system import Secret

from blocks.stripe import (
    LOCAL_STRIPE_SECRET_KEY,
    LOCAL_STRIPE_WEBHOOK_SECRET,
    STRIPE_SECRET_KEY_BLOCK,
    save_stripe_settings,
    stripe_api_base,
    stripe_gateway,
    stripe_secret_key,
    stripe_webhook_secrets,
)
from sierra_core.errors import ConfigError
from sierra_core.redact import redact_text


def test_saved_values_load_back_and_build_a_gateway(prefect_api):
    saved = save_stripe_settings(
        secret_key=LOCAL_STRIPE_SECRET_KEY,
        webhook_secret=f"{LOCAL_STRIPE_WEBHOOK_SECRET}, whsec_previoussecret0001",
        api_base="http://127.0.0.1:8702/",
    )
    assert saved == ["sierra-stripe-secret-key", "sierra-stripe-webhook-secret", "sierra-stripe-api-base"]
    assert stripe_secret_key() == LOCAL_STRIPE_SECRET_KEY
    assert stripe_webhook_secrets() == [LOCAL_STRIPE_WEBHOOK_SECRET, "whsec_previoussecret0001"]
    assert stripe_api_base() == "http://127.0.0.1:8702"
    gateway = stripe_gateway()
    assert gateway.base_url == "http://127.0.0.1:8702" and LOCAL_STRIPE_SECRET_KEY not in repr(gateway)
    loaded = Secret.load(STRIPE_SECRET_KEY_BLOCK)
    assert LOCAL_STRIPE_SECRET_KEY not in repr(loaded)
    # The local defaults have the shape the redactor recognises, so they never show in a log line either.
    assert LOCAL_STRIPE_SECRET_KEY not in redact_text(f"key {LOCAL_STRIPE_SECRET_KEY}")
    assert LOCAL_STRIPE_WEBHOOK_SECRET not in redact_text(f"secret {LOCAL_STRIPE_WEBHOOK_SECRET}")


def test_bad_values_are_refused_before_anything_is_saved(prefect_api):
    with pytest.raises(ConfigError, match="sk_"):
        save_stripe_settings(
            secret_key="pk_test_publishable", webhook_secret=None, api_base="https://api.stripe.com"
        )
    with pytest.raises(ConfigError, match="whsec_"):
        save_stripe_settings(
            secret_key=None, webhook_secret="not-a-secret", api_base="https://api.stripe.com"
        )
    with pytest.raises(ConfigError, match="plain http"):
        save_stripe_settings(secret_key=None, webhook_secret=None, api_base="http://stripe.example.com")


def test_a_missing_block_says_how_to_create_it(prefect_api):
    with pytest.raises(ConfigError, match="sierra-sync blocks setup"):
        stripe_secret_key("sierra-stripe-no-such-block")
