"""Provider declarations are checked when they are made, and resolve per environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from connectors.kit.provider import ApiKey, Endpoints, OAuth2, Provider, Refresh, Webhooks
from connectors.kit.registry import PROVIDERS, get_adapter, get_provider
from sierra_core.errors import NotFoundError


def test_the_registry_names_providers_as_integrations_do():
    from sierra_core.db.models.integration import INTEGRATION_TYPES

    assert set(PROVIDERS) <= set(INTEGRATION_TYPES)
    assert get_provider("quickbooks") is get_provider("QuickBooks_Online") is PROVIDERS["quickbooks_online"]
    assert get_adapter("stripe").parse_webhook is not None
    with pytest.raises(NotFoundError, match="choose one of: quickbooks_online, stripe"):
        get_provider("myspace")


def test_local_endpoints_are_relative_to_the_sandbox():
    qbo = get_provider("quickbooks")
    local = qbo.endpoints("local", "http://127.0.0.1:8701/")
    assert local.token == "http://127.0.0.1:8701/oauth2/v1/tokens/bearer"
    assert local.api_base == "http://127.0.0.1:8701"
    with pytest.raises(ValueError, match="needs its base URL"):
        qbo.endpoints("local")
    with pytest.raises(ValueError, match="has no sandbox environment"):
        get_provider("stripe").endpoints("sandbox")


def test_inconsistent_declarations_are_refused():
    only_api = {"production": Endpoints(api_base="https://api.example.test")}
    with pytest.raises(ValidationError, match="code flow needs an authorize URL"):
        OAuth2(mode="code", environments=only_api)
    with pytest.raises(ValidationError, match="use refresh kind 'remint'"):
        OAuth2(
            mode="client_credentials",
            environments={"production": Endpoints(token="https://x.test/t", api_base="https://x.test")},
            refresh=Refresh(kind="rotating_revoke"),
        )
    with pytest.raises(ValidationError, match="needs the header"):
        Webhooks(scheme="hmac_body")
    with pytest.raises(ValidationError, match=r"put \{timestamp\} in signed_format"):
        Webhooks(scheme="hmac_timestamped", header="Sig", signed_format="{body}")
    with pytest.raises(ValidationError):
        Provider(name="Bad Name", title="x", category="storage", auth=ApiKey(environments=only_api))


def test_an_api_key_provider_has_no_oauth():
    provider = Provider(
        name="zapier",
        title="Zapier",
        category="automation",
        auth=ApiKey(environments={"production": Endpoints(api_base="https://hooks.zapier.com")}),
    )
    with pytest.raises(TypeError, match="API key"):
        _ = provider.oauth
