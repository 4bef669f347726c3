"""Run flows for real: a Prefect test server, the blocks saved in it, settings pointing at the test
database, and a company connected to the QBO sandbox."""

from __future__ import annotations

import pytest
from prefect.types import SecretDict
from pydantic import SecretStr

from blocks import QBO_APP_BLOCK, TOKEN_KEYS_BLOCK, QuickBooksAppCredentials, TokenEncryptionKeys
from sierra_core.settings import get_settings
from tasks import naming, runtime
from tests.connectors.quickbooks import oauth_helpers as h
from tests.connectors.quickbooks_sync.conftest import connected  # noqa: F401 - re-exported fixture


@pytest.fixture
def flow_env(connected, db, qbo, prefect_api, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SIERRA_DATABASE_URL", db.url)
    monkeypatch.setenv("SIERRA_QBO_RETRY_INITIAL_WAIT", "0.01")
    monkeypatch.setenv("SIERRA_QBO_MAX_THROTTLE_WAIT", "0.05")
    get_settings.cache_clear()
    runtime.reset_engines()
    naming.forget_names()  # company ids repeat across test databases (seeded deterministically)
    QuickBooksAppCredentials(
        client_id="local-client",
        client_secret=SecretStr("local-secret"),
        redirect_uri=connected.app.redirect_uri,
        environment="local",
        local_base_url=qbo.url,
    ).save(QBO_APP_BLOCK, overwrite=True)
    TokenEncryptionKeys(keys=SecretDict({"k1": h.KEY_TEXT}), created={"k1": h.KEY_CREATED}).save(
        TOKEN_KEYS_BLOCK, overwrite=True
    )
    yield connected
    get_settings.cache_clear()
    runtime.reset_engines()
