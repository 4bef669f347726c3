"""`sierra-sync blocks setup --local` saves the Xero app block for the local sandbox; the app registry
(blocks/apps.py) then gives the Xero app and its webhook key; a real app needs its secret and redirect URI."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from blocks.apps import configured_webhook_secrets, provider_app
from blocks.xero import LOCAL_XERO_WEBHOOK_KEY
from sierra_sync.cli.blocks import app

QBO_APP = ["--client-id", "a", "--client-secret", "b", "--redirect-uri", "https://x.example/cb"]


def test_setup_local_saves_the_xero_app(prefect_api: str) -> None:
    done = CliRunner().invoke(app, ["--local", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["xero_app_block"] == "sierra-xero-app"
    xero = provider_app("xero")
    assert xero.environment == "local" and xero.client_id == "local-client"
    assert xero.api_base_url == "http://127.0.0.1:8704/api.xro/2.0"
    assert xero.endpoints.post_connect == "http://127.0.0.1:8704/connections"
    assert configured_webhook_secrets()["xero"] == [LOCAL_XERO_WEBHOOK_KEY]
    assert "local-secret" not in done.output


def test_a_real_xero_app_without_its_secret_is_one_clear_error(prefect_api: str) -> None:
    done = CliRunner().invoke(
        app,
        [*QBO_APP, "--xero-client-id", "XEROAPP"],
        env={"SIERRA_XERO_CLIENT_SECRET": ""},
    )
    assert done.exit_code != 0
    assert "Xero app needs --xero-redirect-uri" in str(done.exception)
