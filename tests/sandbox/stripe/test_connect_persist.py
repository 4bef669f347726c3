"""A Stripe sandbox with a state file keeps Stripe Connect across a restart, as Stripe keeps an authorization
until it is deauthorized: the connected account, its access and refresh tokens and its objects work after a
restart on the same file, and a deauthorized account stays deauthorized. The Connect state is the kit's
SQLite state file next to the JSON one (`persist.connect_file`); a JSON file from before loads without it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import stripe

from sandbox.common.server import LocalServer
from sandbox.kit.oauth import AccessToken, AuthCode, RefreshToken
from sandbox.stripe import SandboxState, StripeSandboxOptions, create_app
from sandbox.stripe.persist import connect_file
from tests.sandbox.stripe.conftest import API_KEY
from tests.sandbox.stripe.test_connect import CLIENT_ID, REDIRECT, consent

PLATFORM = {"Authorization": f"Bearer {API_KEY}"}


def _options(state_file: Path) -> StripeSandboxOptions:
    # A seed: a restarted sandbox draws the same ids and tokens again, which must not clash with kept ones.
    return StripeSandboxOptions(seed=3, state_file=str(state_file), webhook_auto_deliver=False)


def _connect(url: str) -> dict[str, Any]:
    """Consent page, then the code exchanged at /oauth/token with the platform key, as a platform does."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "scope": "read_write",
            "redirect_uri": REDIRECT,
            "state": "s",
        }
    )
    code = consent(f"{url}/oauth/authorize?{query}")["code"]
    token = httpx.post(
        f"{url}/oauth/token", data={"grant_type": "authorization_code", "code": code}, headers=PLATFORM
    )
    assert token.status_code == 200, token.text
    body: dict[str, Any] = token.json()
    return body


def _as_key(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _on_behalf(account: str) -> dict[str, str]:
    return {**PLATFORM, "Stripe-Account": account}


def test_a_connected_account_and_its_tokens_survive_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "stripe.json"
    with LocalServer(create_app(_options(state_file))) as server:
        token = _connect(server.url)
        account = token["stripe_user_id"]
        theirs = httpx.post(
            f"{server.url}/v1/customers", data={"name": "Theirs"}, headers=_as_key(token["access_token"])
        ).json()
        via_header = httpx.post(
            f"{server.url}/v1/customers", data={"name": "Via header"}, headers=_on_behalf(account)
        ).json()
    with LocalServer(create_app(_options(state_file))) as server:
        # First, as before the restart, a new connection: the same seed draws the same values again, yet it
        # is another account with other tokens.
        other = _connect(server.url)
        assert other["stripe_user_id"] != account
        assert other["access_token"] != token["access_token"]
        assert other["refresh_token"] != token["refresh_token"]
        # Its own key acts on the account: its customer, not the platform's (which has none).
        again = httpx.get(f"{server.url}/v1/customers/{theirs['id']}", headers=_as_key(token["access_token"]))
        assert again.status_code == 200 and again.json()["name"] == "Theirs"
        assert httpx.get(f"{server.url}/v1/customers/{theirs['id']}", headers=PLATFORM).status_code == 404
        # The platform's key with the stored stripe_user_id, as the connector calls.
        listed = httpx.get(f"{server.url}/v1/customers", headers=_on_behalf(account))
        assert listed.status_code == 200
        assert {c["id"] for c in listed.json()["data"]} == {theirs["id"], via_header["id"]}
        refreshed = httpx.post(
            f"{server.url}/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
            headers=PLATFORM,
        )
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["stripe_user_id"] == account
        assert refreshed.json()["stripe_publishable_key"] == token["stripe_publishable_key"]
        assert refreshed.json()["refresh_token"] == token["refresh_token"]  # Stripe keeps it
        gone = httpx.post(
            f"{server.url}/oauth/deauthorize",
            data={"client_id": CLIENT_ID, "stripe_user_id": account},
            headers=PLATFORM,
        )
        assert gone.status_code == 200 and gone.json() == {"stripe_user_id": account}
    assert connect_file(state_file) == tmp_path / "stripe.connect.sqlite"
    assert connect_file(state_file).exists()


def test_a_deauthorized_account_stays_deauthorized_after_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "stripe.json"
    with LocalServer(create_app(_options(state_file))) as server:
        token = _connect(server.url)
        account = token["stripe_user_id"]
        gone = httpx.post(
            f"{server.url}/oauth/deauthorize",
            data={"client_id": CLIENT_ID, "stripe_user_id": account},
            headers=PLATFORM,
        )
        assert gone.status_code == 200
    with LocalServer(create_app(_options(state_file))) as server:
        own_key = httpx.get(f"{server.url}/v1/customers", headers=_as_key(token["access_token"]))
        assert own_key.status_code == 401
        assert own_key.json()["error"]["message"].startswith("Expired API Key provided: sk_test_")
        assert token["access_token"] not in own_key.text  # masked, as Stripe does
        header = httpx.get(f"{server.url}/v1/customers", headers=_on_behalf(account))
        assert header.status_code == 403 and header.json()["error"]["code"] == "account_invalid"
        refresh = httpx.post(
            f"{server.url}/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
            headers=PLATFORM,
        )
        assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
        again = httpx.post(
            f"{server.url}/oauth/deauthorize",
            data={"client_id": CLIENT_ID, "stripe_user_id": account},
            headers=PLATFORM,
        )
        assert again.status_code == 401 and again.json()["error"] == "invalid_client"
        listed = httpx.get(f"{server.url}/__sandbox/tokens").json()
        assert [t["revoked"] for t in listed["access_tokens"]] == [True]


def test_a_state_file_from_before_loads_with_no_connected_accounts(tmp_path: Path) -> None:
    state_file = tmp_path / "stripe.json"
    customer = {"id": "cus_Kept0001", "object": "customer", "created": 1_700_000_000, "name": "Kept"}
    state_file.write_text(json.dumps({"version": 1, "clock_offset": 0.0, "objects": [customer]}))
    with LocalServer(create_app(_options(state_file))) as server:
        kept = httpx.get(f"{server.url}/v1/customers/cus_Kept0001", headers=PLATFORM)
        tokens = httpx.get(f"{server.url}/__sandbox/tokens").json()
        unknown = httpx.get(f"{server.url}/v1/customers", headers=_on_behalf("acct_1NotConnected00"))
        token = _connect(server.url)  # and it connects accounts from now on
    assert kept.status_code == 200 and kept.json()["name"] == "Kept"
    assert tokens == {"access_tokens": [], "refresh_tokens": []}
    assert unknown.status_code == 403
    with LocalServer(create_app(_options(state_file))) as server:
        listed = httpx.get(f"{server.url}/v1/customers", headers=_on_behalf(token["stripe_user_id"]))
        kept = httpx.get(f"{server.url}/v1/customers/cus_Kept0001", headers=PLATFORM)
    assert listed.status_code == 200 and kept.status_code == 200


def test_a_reset_forgets_the_kept_connections(tmp_path: Path) -> None:
    state_file = tmp_path / "stripe.json"
    with LocalServer(create_app(_options(state_file))) as server:
        account = _connect(server.url)["stripe_user_id"]
        assert httpx.post(f"{server.url}/__sandbox/reset").status_code == 200
    with LocalServer(create_app(_options(state_file))) as server:
        header = httpx.get(f"{server.url}/v1/customers", headers=_on_behalf(account))
        tokens = httpx.get(f"{server.url}/__sandbox/tokens").json()
    assert header.status_code == 403
    assert tokens == {"access_tokens": [], "refresh_tokens": []}


def test_a_seeded_sandbox_never_hands_out_a_kept_token_again() -> None:
    # White box: what a restarted seeded sandbox does, its random draws starting over while kept tokens
    # are loaded.
    state = SandboxState(StripeSandboxOptions(seed=3))
    server = state.oauth
    kept = {kind: server.new_secret(kind) for kind in ("code", "refresh", "access")}
    server.access[kept["access"]] = AccessToken(kept["access"], "g", "acct_1Kept", 0.0, 1.0)
    server.refresh[kept["refresh"]] = RefreshToken(kept["refresh"], "g", 0.0, 1.0)
    server.codes[kept["code"]] = AuthCode(kept["code"], REDIRECT, "acct_1Kept", "read_write", 1.0, None, None)
    state.rng.seed(3)
    again = {kind: server.new_secret(kind) for kind in ("code", "refresh", "access")}
    assert all(again[kind] != kept[kind] for kind in kept), "a kept value was drawn again"
    assert [v[:3] for v in again.values()] == ["ac_", "rt_", "sk_"]


def test_the_official_sdk_sees_the_connection_after_a_restart_and_its_deauthorization_after_another(
    tmp_path: Path,
) -> None:
    """stripe-python, unchanged but for its base addresses: what a platform does with a kept connection."""
    state_file = tmp_path / "stripe.json"

    def client(url: str) -> stripe.StripeClient:
        return stripe.StripeClient(API_KEY, client_id=CLIENT_ID, base_addresses={"api": url, "connect": url})

    with LocalServer(create_app(_options(state_file))) as server:
        account = _connect(server.url)["stripe_user_id"]
        made = client(server.url).v1.customers.create({"name": "Kept"}, {"stripe_account": account})
    with LocalServer(create_app(_options(state_file))) as server:
        sdk = client(server.url)
        listed = sdk.v1.customers.list(options={"stripe_account": account})
        assert [c.id for c in listed.data] == [made.id]
        assert sdk.oauth.deauthorize({"stripe_user_id": account}).stripe_user_id == account
    with (
        LocalServer(create_app(_options(state_file))) as server,
        pytest.raises(stripe.PermissionError),  # 403 account_invalid, as for a revoked account
    ):
        client(server.url).v1.customers.list(options={"stripe_account": account})
