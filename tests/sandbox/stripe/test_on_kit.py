"""The Stripe sandbox on the sandbox kit: the kit's admin contract, Connect style, beside Stripe's paths."""

from __future__ import annotations

import httpx

from sandbox.kit.app import Kit
from sandbox.registry import SandboxSettings, get_sandbox
from sandbox.stripe import create_app
from sandbox.stripe.accounts import PLATFORM_ACCOUNT
from tests.sandbox.stripe.conftest import API_KEY, RunningSandbox


def test_admin_tokens_connect_a_new_account_whose_token_works(sandbox: RunningSandbox) -> None:
    grant = sandbox.admin("POST", "tokens")
    assert grant["stripe_user_id"].startswith("acct_1")
    assert grant["access_token"].startswith("sk_test_") and grant["refresh_token"].startswith("rt_")
    assert grant["token_type"] == "bearer" and grant["scope"] == "read_write" and grant["livemode"] is False
    made = sandbox.api("POST", "/v1/customers", key=grant["access_token"], data={"name": "On the kit"})
    assert made.status_code == 200
    # The customer belongs to the connected account, not to the platform.
    assert sandbox.api("GET", f"/v1/customers/{made.json()['id']}").status_code == 404
    again = sandbox.admin("POST", "tokens", {"stripe_user_id": grant["stripe_user_id"]})
    assert again["stripe_user_id"] == grant["stripe_user_id"]
    assert again["access_token"] != grant["access_token"]


def test_admin_tokens_refuse_an_unknown_account(sandbox: RunningSandbox) -> None:
    response = httpx.post(f"{sandbox.url}/__sandbox/tokens", json={"stripe_user_id": "acct_nope"})
    assert response.status_code == 404
    assert "acct_nope" in response.json()["error"]


def test_the_app_is_a_kit_app_on_the_states_clock(sandbox: RunningSandbox) -> None:
    before = sandbox.admin("GET", "clock")["now"]
    sandbox.admin("POST", "clock", {"advance_days": 3})
    assert sandbox.admin("GET", "clock")["now"] >= before + 3 * 86400
    # The kit's own admin routes answer too (Stripe sends no kit webhooks: a JSON 404, no traceback).
    response = httpx.get(f"{sandbox.url}/__sandbox/webhooks")
    assert response.status_code == 404 and "sends no webhooks" in response.json()["error"]
    response = httpx.get(f"{sandbox.url}/__sandbox/no-such-thing")
    assert response.status_code == 404 and "error" in response.json()


def test_the_app_is_built_by_the_kit_with_stripes_spec() -> None:
    app = create_app()
    kit = app.state.kit
    assert isinstance(kit, Kit) and kit.spec.name == "stripe"
    assert kit.clock is app.state.sandbox.clock


def test_stripes_faults_drive_the_kits_fault_board(sandbox: RunningSandbox) -> None:
    board = sandbox.state.faults.board
    sandbox.admin("POST", "faults", {"latency_ms": 5, "throttle": 1})
    assert board.injector("").settings.latency_ms == 5.0
    assert sandbox.api("GET", "/v1/customers").status_code == 429
    assert sandbox.api("GET", "/v1/customers").status_code == 200
    assert sandbox.admin("GET", "stats")["throttled"] == 1
    response = httpx.post(f"{sandbox.url}/__sandbox/faults", json={"error_rate": "high"})
    assert response.status_code == 400 and response.json()["error"] == "error_rate must be a number"


def test_the_registry_builds_stripe_through_the_kit() -> None:
    app = get_sandbox("stripe").build(SandboxSettings(latency_ms=7))
    assert isinstance(app.state.kit, Kit) and app.state.kit.spec.title == "Stripe"
    assert app.state.kit.faults is app.state.sandbox.faults.board
    assert app.state.kit.faults.default.latency_ms == 7.0


def test_connect_tokens_are_the_kits_and_the_kits_admin_expires_them(sandbox: RunningSandbox) -> None:
    grant = sandbox.admin("POST", "tokens")
    account = grant["stripe_user_id"]
    listed = sandbox.admin("GET", "tokens")
    assert [t["stripe_user_id"] for t in listed["access_tokens"]] == [account]
    assert sandbox.api("GET", "/v1/customers", key=grant["access_token"]).status_code == 200
    assert sandbox.admin("POST", "tokens/expire", {"kind": "all", "stripe_user_id": account}) == {
        "expired": 2
    }
    refused = sandbox.api("GET", "/v1/customers", key=grant["access_token"])
    assert refused.status_code == 401 and "Expired API Key" in refused.json()["error"]["message"]
    refresh = {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
    answer = httpx.post(f"{sandbox.url}/oauth/token", data=refresh, auth=(API_KEY, ""))
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_stats_are_the_kits_counters_per_account(sandbox: RunningSandbox) -> None:
    grant = sandbox.admin("POST", "tokens")
    account = grant["stripe_user_id"]
    sandbox.api("POST", "/v1/customers", key=grant["access_token"], data={"name": "Theirs"})
    sandbox.api("GET", "/v1/customers")
    sandbox.api("GET", "/v1/customers", key="sk_test_")  # refused: counted, as an authentication failure
    total = sandbox.admin("GET", "stats")
    assert total["requests_total"] == 3 and total["auth_failures"] == 1
    assert total["requests_by_endpoint"] == {"GET /v1/customers": 2, "POST /v1/customers": 1}
    assert total["accounts"] == sorted([account, PLATFORM_ACCOUNT])
    assert total["webhooks"] == {"pending": 0, "delivered": 0, "failed": 0, "attempts": 0}
    theirs = sandbox.admin("GET", f"stats?account={account}")
    assert theirs["account"] == account and theirs["requests_by_endpoint"] == {"POST /v1/customers": 1}
    httpx.post(f"{sandbox.url}/oauth/token", data={"grant_type": "password"}, auth=(API_KEY, ""))
    assert sandbox.admin("GET", "stats")["oauth"] == {"token": 1}
    sandbox.admin("POST", "reset")
    assert sandbox.admin("GET", "stats")["requests_total"] == 0
    assert sandbox.admin("GET", "tokens") == {"access_tokens": [], "refresh_tokens": []}
