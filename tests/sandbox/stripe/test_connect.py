# mypy: disable-error-code="union-attr,arg-type,typeddict-item,typeddict-unknown-key,call-overload,index"
"""Stripe Connect: OAuth as connect.stripe.com serves it (official SDK helpers), per-account objects."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import stripe

from tests.sandbox.stripe.conftest import API_KEY, RunningSandbox
from tests.sandbox.stripe.test_webhooks import SECRET, Receiver, receiver, receiver_server

__all__ = ["receiver", "receiver_server"]  # fixtures shared with the webhook tests

CLIENT_ID = "ca_localsierrasandbox"
REDIRECT = "http://127.0.0.1:9/oauth/stripe/callback"


def consent(url: str, decision: str = "allow") -> dict[str, str]:
    """Open the consent page, submit its form like a person would, return the redirect's query."""
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200 and "<form" in page.text
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action is not None
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    base = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"
    answer = httpx.post(f"{base}{action.group(1)}", data={**fields, "decision": decision}, timeout=10)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _oauth_client(sandbox: RunningSandbox) -> stripe.StripeClient:
    return stripe.StripeClient(
        API_KEY, client_id=CLIENT_ID, base_addresses={"api": sandbox.url, "connect": sandbox.url}
    )


def _connect(sandbox: RunningSandbox) -> stripe.OAuth.OAuthToken:
    client = _oauth_client(sandbox)
    url = client.oauth.authorize_url({"scope": "read_write", "redirect_uri": REDIRECT, "state": "s-1"})
    params = consent(url)
    return client.oauth.token({"grant_type": "authorization_code", "code": params["code"]})


def test_sdk_oauth_round_trip_token_refresh_and_deauthorize(sandbox: RunningSandbox) -> None:
    client = _oauth_client(sandbox)
    url = client.oauth.authorize_url({"scope": "read_write", "redirect_uri": REDIRECT, "state": "xyz"})
    assert url.startswith(f"{sandbox.url}/oauth/authorize?")
    params = consent(url)
    assert params["state"] == "xyz" and params["code"].startswith("ac_") and params["scope"] == "read_write"
    token = client.oauth.token({"grant_type": "authorization_code", "code": params["code"]})
    assert token.stripe_user_id.startswith("acct_") and token.access_token.startswith("sk_test_")
    assert token.refresh_token.startswith("rt_") and token.stripe_publishable_key.startswith("pk_test_")
    assert (token.token_type, token.livemode, token.scope) == ("bearer", False, "read_write")
    with pytest.raises(stripe.oauth_error.InvalidGrantError, match="already been used"):
        client.oauth.token({"grant_type": "authorization_code", "code": params["code"]})
    # A reused code revokes what it issued (as Stripe does): connect again for the rest.
    token = _connect(sandbox)
    refreshed = client.oauth.token({"grant_type": "refresh_token", "refresh_token": token.refresh_token})
    assert refreshed.stripe_user_id == token.stripe_user_id and refreshed.access_token != token.access_token
    as_account = stripe.StripeClient(refreshed.access_token, base_addresses={"api": sandbox.url})
    assert as_account.v1.customers.create(params={"name": "Theirs"}).id.startswith("cus_")
    gone = client.oauth.deauthorize({"stripe_user_id": token.stripe_user_id})
    assert gone.stripe_user_id == token.stripe_user_id
    with pytest.raises(stripe.AuthenticationError):
        as_account.v1.customers.list()
    with pytest.raises(stripe.PermissionError) as refused:
        stripe.StripeClient(API_KEY, base_addresses={"api": sandbox.url}).v1.customers.list(
            options={"stripe_account": token.stripe_user_id}
        )
    assert refused.value.http_status == 403 and "does not have access to account" in str(refused.value)
    with pytest.raises(stripe.oauth_error.InvalidClientError):
        client.oauth.deauthorize({"stripe_user_id": token.stripe_user_id})


def test_module_level_oauth_helpers_and_errors(
    sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stripe, "api_key", API_KEY)
    monkeypatch.setattr(stripe, "client_id", CLIENT_ID)
    monkeypatch.setattr(stripe, "connect_api_base", sandbox.url)
    url = _oauth_client(sandbox).oauth.authorize_url({"redirect_uri": REDIRECT, "state": "n"})
    denied = consent(url, decision="deny")
    assert denied == {
        "error": "access_denied",
        "error_description": "The user denied your request",
        "state": "n",
    }
    code = consent(url)["code"]
    token = stripe.OAuth.token(grant_type="authorization_code", code=code)
    assert token.scope == "read_only"
    with pytest.raises(stripe.oauth_error.InvalidGrantError, match="does not exist"):
        stripe.OAuth.token(grant_type="authorization_code", code="ac_nope")
    with pytest.raises(stripe.oauth_error.UnsupportedGrantTypeError):
        stripe.OAuth.token(grant_type="password")
    assert (
        stripe.OAuth.deauthorize(stripe_user_id=token.stripe_user_id).stripe_user_id == token.stripe_user_id
    )
    wrong = httpx.get(
        f"{sandbox.url}/oauth/authorize", params={"client_id": "ca_other", "redirect_uri": REDIRECT}
    )
    assert wrong.status_code == 401 and "No such application" in wrong.text


def test_connected_accounts_have_their_own_objects(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    token = _connect(sandbox)
    account = token.stripe_user_id
    mine = client.v1.customers.create(params={"name": "Platform's"})
    theirs = client.v1.customers.create(params={"name": "Theirs"}, options={"stripe_account": account})
    assert [c.id for c in client.v1.customers.list().data] == [mine.id]
    listed = client.v1.customers.list(options={"stripe_account": account})
    assert [c.id for c in listed.data] == [theirs.id]
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.customers.retrieve(theirs.id)
    assert missing.value.http_status == 404
    as_account = stripe.StripeClient(token.access_token, base_addresses={"api": sandbox.url})
    assert as_account.v1.customers.retrieve(theirs.id).name == "Theirs"
    with pytest.raises(stripe.PermissionError):
        as_account.v1.customers.list(options={"stripe_account": "acct_1SomebodyElse00"})
    paid = as_account.v1.payment_intents.create(
        params={"amount": 2000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )
    assert client.v1.balance.retrieve().pending[0].amount == 0
    assert client.v1.balance.retrieve(options={"stripe_account": account}).pending[0].amount == 2000 - 88
    event = as_account.v1.events.list(params={"type": "payment_intent.succeeded"}).data[0]
    assert event.account == account and event.data.object.id == paid.id
    assert client.v1.events.list(params={"type": "payment_intent.succeeded"}).data == []


def test_idempotency_keys_belong_to_the_account(sandbox: RunningSandbox, client: stripe.StripeClient) -> None:
    account = _connect(sandbox).stripe_user_id
    one = client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k-1"})
    other = client.v1.customers.create(
        params={"name": "A"}, options={"idempotency_key": "k-1", "stripe_account": account}
    )
    assert one.id != other.id


def test_connect_events_go_to_connect_endpoints(
    sandbox: RunningSandbox, client: stripe.StripeClient, receiver: Receiver
) -> None:
    platform_hook = sandbox.admin(
        "POST", "webhook_endpoints", {"url": receiver.url + "?p=1", "secret": SECRET}
    )
    connect_hook = client.v1.webhook_endpoints.create(
        params={"url": receiver.url + "?c=1", "enabled_events": ["customer.created"], "connect": True}
    )
    account = _connect(sandbox).stripe_user_id
    theirs = client.v1.customers.create(params={"name": "Theirs"}, options={"stripe_account": account})
    mine = client.v1.customers.create(params={"name": "Mine"})
    receiver.wait_for(lambda: len(receiver.received) >= 2)
    by_object = {e["data"]["object"]["id"]: e for e in receiver.events()}
    assert by_object[theirs.id]["account"] == account and "account" not in by_object[mine.id]
    deliveries = {
        d["event_id"]: d["endpoint_id"] for d in sandbox.admin("GET", "webhooks/deliveries")["data"]
    }
    assert deliveries[by_object[theirs.id]["id"]] == connect_hook.id
    assert deliveries[by_object[mine.id]["id"]] == platform_hook["id"]
