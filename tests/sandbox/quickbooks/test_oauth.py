"""Intuit OAuth 2.0 as the sandbox plays it, over raw HTTP."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.sandbox.quickbooks.conftest import BASIC, Sandbox, make_sandbox

REDIRECT = "http://127.0.0.1:8703/callback"
DAY = 86_400


def authorize(qbo: Sandbox, **params: str) -> httpx.Response:
    query = {
        "client_id": "local-client",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "com.intuit.quickbooks.accounting",
        "state": "st-123",
    } | params
    return httpx.get(f"{qbo.url}/connect/oauth2", params=query, follow_redirects=False)


def callback(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def token(
    qbo: Sandbox, form: dict[str, str], auth: Any = BASIC, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.post(f"{qbo.url}/oauth2/v1/tokens/bearer", data=form, auth=auth, headers=headers or {})


def connect(qbo: Sandbox, **params: str) -> tuple[str, dict[str, Any]]:
    cb = callback(authorize(qbo, **params))
    response = token(qbo, {"grant_type": "authorization_code", "code": cb["code"], "redirect_uri": REDIRECT})
    assert response.status_code == 200, response.text
    return cb["realmId"], response.json()


def refresh(qbo: Sandbox, refresh_token: str, **kw: Any) -> httpx.Response:
    return token(qbo, {"grant_type": "refresh_token", "refresh_token": refresh_token}, **kw)


def api_get(qbo: Sandbox, realm: str, access: str) -> httpx.Response:
    return httpx.get(
        f"{qbo.url}/v3/company/{realm}/customer/1", headers={"Authorization": f"Bearer {access}"}
    )


@pytest.fixture
def rotate_always(qbo: Sandbox) -> Iterator[None]:
    qbo.admin("POST", "oauth", {"refresh_rotation": "always"})
    yield
    qbo.admin("POST", "oauth", {"refresh_rotation": "daily"})


def test_discovery_document_has_intuits_fields(qbo: Sandbox) -> None:
    doc = httpx.get(f"{qbo.url}/.well-known/openid_configuration").json()
    for key in (
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "revocation_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
    ):
        assert doc[key].startswith(qbo.url.replace("127.0.0.1", "127.0.0.1")), key
    assert doc["token_endpoint"].endswith("/oauth2/v1/tokens/bearer")
    keys = httpx.get(doc["jwks_uri"]).json()["keys"]
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256"


def test_consent_creates_a_new_company_each_time_unless_realm_id_names_one(qbo: Sandbox) -> None:
    first = callback(authorize(qbo))
    second = callback(authorize(qbo))
    assert first["state"] == "st-123" and first["code"] and first["realmId"] != second["realmId"]
    again = callback(authorize(qbo, realm_id=first["realmId"]))
    assert again["realmId"] == first["realmId"]
    realms = {r["realm_id"] for r in qbo.admin("GET", "realms")["realms"]}
    assert {first["realmId"], second["realmId"]} <= realms


def test_consent_denied_mode_and_bad_requests(qbo: Sandbox) -> None:
    qbo.admin("POST", "oauth", {"consent": "deny"})
    try:
        cb = callback(authorize(qbo))
    finally:
        qbo.admin("POST", "oauth", {"consent": "auto"})
    assert cb == {"error": "access_denied", "state": "st-123"}
    assert callback(authorize(qbo, scope="bogus"))["error"] == "invalid_scope"
    assert authorize(qbo, client_id="someone-else").status_code == 400
    assert authorize(qbo, redirect_uri="https://evil.example.com/cb").status_code == 400


def test_consent_page_mode_asks_and_the_decision_posts_back(qbo: Sandbox) -> None:
    refused = qbo.admin("POST", "oauth", {"consent": "sometimes"}, expect=400)
    assert "'auto', 'page' or 'deny'" in json.dumps(refused)
    assert qbo.admin("POST", "oauth", {"consent": "page"})["consent"] == "page"
    try:
        page = authorize(qbo)
        assert page.status_code == 200 and "com.intuit.quickbooks.accounting" in page.text
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
        assert fields["state"] == "st-123" and fields["redirect_uri"] == REDIRECT
        post = f"{qbo.url}/connect/oauth2"
        denied = callback(httpx.post(post, data=fields | {"decision": "deny"}))
        approved = callback(httpx.post(post, data=fields | {"decision": "approve"}))
    finally:
        qbo.admin("POST", "oauth", {"consent": "auto"})
    assert denied == {"error": "access_denied", "state": "st-123"}
    assert approved["state"] == "st-123" and approved["code"] and approved["realmId"]
    exchanged = token(
        qbo, {"grant_type": "authorization_code", "code": approved["code"], "redirect_uri": REDIRECT}
    )
    assert exchanged.status_code == 200, exchanged.text


def test_code_exchange_with_basic_and_with_form_auth(qbo: Sandbox) -> None:
    realm, tokens = connect(qbo)
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 3600
    assert tokens["x_refresh_token_expires_in"] == 8_726_400
    assert api_get(qbo, realm, tokens["access_token"]).status_code == 200
    cb = callback(authorize(qbo))
    form = {
        "grant_type": "authorization_code",
        "code": cb["code"],
        "redirect_uri": REDIRECT,
        "client_id": "local-client",
        "client_secret": "local-secret",
    }
    response = token(qbo, form, auth=None)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    # A code is single-use: Intuit's exact invalid_grant body.
    reused = token(qbo, form, auth=None)
    assert reused.status_code == 400
    assert reused.json() == {"error": "invalid_grant", "error_description": "Token invalid"}


def test_token_errors_are_intuits(qbo: Sandbox) -> None:
    cb = callback(authorize(qbo))
    bad_secret = token(
        qbo,
        {"grant_type": "authorization_code", "code": cb["code"], "redirect_uri": REDIRECT},
        auth=("local-client", "nope"),
    )
    assert bad_secret.status_code == 401 and bad_secret.json() == {"error": "invalid_client"}
    wrong_redirect = token(
        qbo, {"grant_type": "authorization_code", "code": cb["code"], "redirect_uri": REDIRECT + "x"}
    )
    assert wrong_redirect.json()["error"] == "invalid_grant"
    assert token(qbo, {"grant_type": "password"}).json() == {"error": "unsupported_grant_type"}
    assert token(qbo, {"grant_type": "refresh_token"}).json() == {"error": "invalid_request"}
    assert refresh(qbo, "RT1-not-a-token").json() == {
        "error": "invalid_grant",
        "error_description": "Token invalid",
    }


def test_pkce_s256_is_checked_when_a_challenge_was_sent(qbo: Sandbox) -> None:
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    cb = callback(authorize(qbo, code_challenge=challenge, code_challenge_method="S256"))
    base = {"grant_type": "authorization_code", "code": cb["code"], "redirect_uri": REDIRECT}
    assert token(qbo, base | {"code_verifier": "w" * 50}).status_code == 400
    cb = callback(authorize(qbo, code_challenge=challenge, code_challenge_method="S256"))
    base["code"] = cb["code"]
    assert token(qbo, base).status_code == 400  # no verifier
    cb = callback(authorize(qbo, code_challenge=challenge, code_challenge_method="S256"))
    base["code"] = cb["code"]
    assert token(qbo, base | {"code_verifier": verifier}).status_code == 200


def test_daily_rotation_keeps_the_value_for_a_day_then_rotates(qbo: Sandbox) -> None:
    _, tokens = connect(qbo)
    qbo.clock.advance(600)
    same = refresh(qbo, tokens["refresh_token"]).json()
    assert same["refresh_token"] == tokens["refresh_token"]
    assert same["x_refresh_token_expires_in"] == 8_726_400 - 600  # a countdown, not reset (the capture)
    assert same["access_token"] != tokens["access_token"]
    qbo.clock.advance(DAY)
    rotated = refresh(qbo, tokens["refresh_token"]).json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert rotated["x_refresh_token_expires_in"] == 8_726_400


def test_superseded_refresh_token_has_a_24h_grace(qbo: Sandbox, rotate_always: None) -> None:
    _, tokens = connect(qbo)
    old = tokens["refresh_token"]
    new = refresh(qbo, old).json()["refresh_token"]
    assert new != old
    qbo.clock.advance(DAY - 60)
    within = refresh(qbo, old)
    assert within.status_code == 200 and within.json()["refresh_token"] == new  # the current one comes back
    qbo.clock.advance(120)
    assert refresh(qbo, old).json()["error"] == "invalid_grant"
    assert refresh(qbo, new).status_code == 200


def test_rolling_and_hard_expiry(qbo: Sandbox, rotate_always: None) -> None:
    _, tokens = connect(qbo)
    qbo.clock.advance(101 * DAY + 1)
    assert refresh(qbo, tokens["refresh_token"]).json()["error"] == "invalid_grant"  # rolling expiry
    _, tokens = connect(qbo)
    current = tokens["refresh_token"]
    hard = refresh(qbo, current, headers={"x-include-refresh-token-hard-expires-in": "true"}).json()
    assert hard["x_refresh_token_hard_expires_in"] == 5 * 365 * DAY
    current = hard["refresh_token"]
    for _ in range(40):  # keep rotating every 50 days: the 5-year cap still ends it
        qbo.clock.advance(50 * DAY)
        response = refresh(qbo, current)
        if response.status_code != 200:
            break
        current = response.json()["refresh_token"]
    assert response.json() == {"error": "invalid_grant", "error_description": "Token invalid"}
    assert 36 <= _ <= 37


def test_access_token_expiry_gives_intuits_401_body(qbo: Sandbox) -> None:
    realm, tokens = connect(qbo)
    qbo.clock.advance(3599)
    assert api_get(qbo, realm, tokens["access_token"]).status_code == 200
    qbo.clock.advance(2)
    response = api_get(qbo, realm, tokens["access_token"])
    assert response.status_code == 401
    body = response.json()
    assert body["fault"]["type"] == "AUTHENTICATION"
    assert body["fault"]["error"][0]["code"] == "3200"
    assert (
        body["fault"]["error"][0]["message"]
        == "message=AuthenticationFailed; errorCode=003200; statusCode=401"
    )
    assert isinstance(body["time"], int)
    assert api_get(qbo, realm, "garbage").status_code == 401
    assert httpx.get(f"{qbo.url}/v3/company/{realm}/customer/1").status_code == 401


def test_token_of_another_company_is_forbidden(qbo: Sandbox) -> None:
    realm_a, tokens_a = connect(qbo)
    realm_b, _ = connect(qbo)
    response = api_get(qbo, realm_b, tokens_a["access_token"])
    assert response.status_code == 403
    assert response.json()["fault"]["error"][0]["code"] == "3100"
    assert api_get(qbo, realm_a, tokens_a["access_token"]).status_code == 200


def test_revoke_ends_the_connection(qbo: Sandbox) -> None:
    realm, tokens = connect(qbo)
    url = f"{qbo.url}/oauth2/v1/tokens/revoke"
    assert (
        httpx.post(url, json={"token": tokens["refresh_token"]}, auth=("local-client", "x")).status_code
        == 401
    )
    assert httpx.post(url, json={"token": tokens["refresh_token"]}, auth=BASIC).status_code == 200
    assert api_get(qbo, realm, tokens["access_token"]).status_code == 401
    assert refresh(qbo, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert (
        httpx.post(f"{qbo.url}/v2/oauth2/tokens/revoke", json={"token": "unknown"}, auth=BASIC).status_code
        == 200
    )


def test_a_revoked_connection_stays_revoked_after_a_restart(tmp_path: Path) -> None:
    state = str(tmp_path / "qbo.sqlite")
    server, qbo = make_sandbox(state_file=state)
    try:
        realm, tokens = connect(qbo)
        kept_realm, kept = connect(qbo)
        url = f"{qbo.url}/oauth2/v1/tokens/revoke"
        assert httpx.post(url, json={"token": tokens["refresh_token"]}, auth=BASIC).status_code == 200
    finally:
        server.stop()
    server, qbo = make_sandbox(state_file=state)
    try:
        refused = refresh(qbo, tokens["refresh_token"])
        assert refused.status_code == 400
        assert refused.json() == {"error": "invalid_grant", "error_description": "Token invalid"}
        assert api_get(qbo, realm, tokens["access_token"]).status_code == 401
        assert api_get(qbo, kept_realm, kept["access_token"]).status_code == 200  # the other one works
        assert refresh(qbo, kept["refresh_token"]).status_code == 200
    finally:
        server.stop()


def test_forced_expiry_and_token_listing(qbo: Sandbox) -> None:
    realm, tokens = connect(qbo)
    listed = qbo.admin("GET", "tokens")
    assert tokens["access_token"] in {t["token"] for t in listed["access_tokens"]}
    assert tokens["refresh_token"] in {t["token"] for t in listed["refresh_tokens"]}
    assert qbo.admin("POST", "tokens/expire", {"realm_id": realm, "kind": "access"})["expired"] >= 1
    assert api_get(qbo, realm, tokens["access_token"]).status_code == 401
    fresh = refresh(qbo, tokens["refresh_token"]).json()
    assert api_get(qbo, realm, fresh["access_token"]).status_code == 200
    qbo.admin("POST", "tokens/expire", {"realm_id": realm, "kind": "refresh"})
    assert refresh(qbo, fresh["refresh_token"]).json()["error"] == "invalid_grant"


def test_openid_scope_returns_a_verifiable_id_token(qbo: Sandbox) -> None:
    realm, tokens = connect(qbo, scope="openid com.intuit.quickbooks.accounting")
    header_b64, claims_b64, sig_b64 = tokens["id_token"].split(".")

    def unb64(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    jwk = httpx.get(f"{qbo.url}/op/v1/jwks").json()["keys"][0]
    assert json.loads(unb64(header_b64))["kid"] == jwk["kid"]
    public = rsa.RSAPublicNumbers(
        int.from_bytes(unb64(jwk["e"]), "big"), int.from_bytes(unb64(jwk["n"]), "big")
    ).public_key()
    public.verify(unb64(sig_b64), f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
    claims = json.loads(unb64(claims_b64))
    assert claims["realmid"] == realm and claims["aud"] == ["local-client"]
    assert claims["iss"] == f"{qbo.url}/op/v1" and claims["exp"] - claims["iat"] == 3600
    _, plain = connect(qbo)
    assert "id_token" not in plain


def test_userinfo(qbo: Sandbox) -> None:
    _, tokens = connect(qbo, scope="openid com.intuit.quickbooks.accounting")
    url = f"{qbo.url}/v1/openid_connect/userinfo"
    assert httpx.get(url, headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()[
        "emailVerified"
    ]
    assert httpx.get(url).status_code == 401


def test_logs_never_carry_tokens_or_secrets(qbo: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    realm, tokens = connect(qbo)
    fresh = refresh(qbo, tokens["refresh_token"]).json()
    api_get(qbo, realm, fresh["access_token"])
    api_get(qbo, realm, "bogus-token")
    httpx.post(f"{qbo.url}/oauth2/v1/tokens/revoke", json={"token": fresh["refresh_token"]}, auth=BASIC)
    text = caplog.text
    for secret in (tokens["access_token"], tokens["refresh_token"], fresh["access_token"], "local-secret"):
        assert secret not in text
