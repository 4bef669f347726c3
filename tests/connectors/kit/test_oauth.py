"""The kit's OAuth requests as each declaration asks for them, against httpx.MockTransport."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors.kit import oauth
from connectors.quickbooks.provider import QUICKBOOKS
from connectors.stripe.provider import STRIPE
from sierra_core.errors import ConfigError
from tests.connectors.kit import providers as p


class Server:
    """Records each request and answers from a queue."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


def _app(provider=p.ROTATING, **kw) -> oauth.App:
    return oauth.App(
        provider=provider,
        environment=kw.pop("environment", "production"),
        client_id="client-1",
        client_secret="secret-1",
        redirect_uri="https://sync.example.com/oauth/other/callback",
        **kw,
    )


def _form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def test_consent_url_carries_state_pkce_scopes_and_declared_parameters():
    app = _app(p.oauth_provider(authorize_params={"access_type": "offline"}, scope_separator=","))
    url = oauth.authorization_url(app, "state-1", "v" * 50, realm_id="9")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["scope"] == "read,write" and query["access_type"] == "offline" and query["realm_id"] == "9"
    assert (
        query["code_challenge"] == oauth.code_challenge("v" * 50) and query["code_challenge_method"] == "S256"
    )
    without = oauth.authorization_url(_app(), "s", None)
    assert "code_challenge" not in without


def test_basic_auth_form_request_and_rotating_refresh():
    server = Server(
        httpx.Response(200, json={"access_token": "a2", "refresh_token": "r2", "expires_in": 1800})
    )
    before = datetime.now(UTC)
    with server.client() as http:
        tokens = oauth.refresh(http, _app(), "r1")
    sent = server.requests[0]
    assert sent.headers["authorization"] == "Basic " + base64.b64encode(b"client-1:secret-1").decode()
    assert _form(sent) == {"grant_type": "refresh_token", "refresh_token": "r1"}
    assert (tokens.access_token, tokens.refresh_token) == ("a2", "r2")
    assert tokens.expires_at is not None and before + timedelta(seconds=1799) <= tokens.expires_at
    assert "a2" not in repr(tokens) and "r2" not in repr(tokens)


def test_json_body_client_credentials_expires_at_and_extras():
    expires = "2027-01-05T10:00:00Z"
    server = Server(
        httpx.Response(200, json={"access_token": "a", "expires_at": expires, "merchant_id": "M-9"})
    )
    with server.client() as http:
        tokens = oauth.exchange_code(http, _app(p.JSON_BODY), "code-1", "verifier-1")
    body = json.loads(server.requests[0].content)
    assert body == {
        "grant_type": "authorization_code",
        "code": "code-1",
        "redirect_uri": "https://sync.example.com/oauth/other/callback",
        "code_verifier": "verifier-1",
        "client_id": "client-1",
        "client_secret": "secret-1",
    }
    assert "authorization" not in server.requests[0].headers
    assert tokens.expires_at == datetime(2027, 1, 5, 10, tzinfo=UTC)
    assert tokens.refresh_token is None and tokens.extras == {"external_company_id": "M-9"}


def test_stripe_connect_token_and_deauthorize_use_the_secret_key_as_stripe_documents():
    app = oauth.App(
        STRIPE, "production", "ca_1", "sk_test_platform", "https://sync.example.com/oauth/stripe/callback"
    )
    server = Server(
        httpx.Response(
            200, json={"access_token": "sk_x", "stripe_user_id": "acct_1", "token_type": "bearer"}
        ),
        httpx.Response(200, json={"stripe_user_id": "acct_1"}),
    )
    with server.client() as http:
        tokens = oauth.exchange_code(http, app, "ac_1", None)
        oauth.revoke(http, app, "sk_x", "acct_1")
    token_request, deauthorize = server.requests
    assert _form(token_request)["client_secret"] == "sk_test_platform" and "client_id" not in _form(
        token_request
    )
    assert tokens.expires_at is None and tokens.extras == {"external_company_id": "acct_1"}
    assert str(deauthorize.url) == "https://connect.stripe.com/oauth/deauthorize"
    assert _form(deauthorize) == {"client_id": "ca_1", "stripe_user_id": "acct_1"}
    assert deauthorize.headers["authorization"] == "Basic " + base64.b64encode(b"sk_test_platform:").decode()


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"error": "invalid_grant"}, oauth.InvalidGrantError),
        (401, {"error": "invalid_client"}, oauth.InvalidClientError),
        (400, {"error": "invalid_scope"}, oauth.OAuthError),
    ],
)
def test_refusals_become_actionable_errors_without_secrets(status, body, error):
    server = Server(httpx.Response(status, json=body))
    with server.client() as http, pytest.raises(error) as info:
        oauth.refresh(http, _app(), "r1")
    assert "secret-1" not in info.value.message and "r1" not in info.value.message
    assert "sierra-sync" in info.value.message or error is oauth.OAuthError


def test_server_errors_are_retried_then_succeed(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    server = Server(httpx.Response(503), httpx.Response(200, json={"access_token": "a", "expires_in": 60}))
    with server.client() as http:
        assert oauth.refresh(http, _app(), "r").access_token == "a"
    assert len(server.requests) == 2


def test_discovery_overrides_the_declared_urls_and_must_be_https():
    provider = p.oauth_provider()
    provider = provider.model_copy(
        update={
            "auth": provider.oauth.model_copy(
                update={
                    "environments": {
                        "production": provider.oauth.environments["production"].model_copy(
                            update={"discovery": "https://auth.example.test/.well-known/openid-configuration"}
                        )
                    }
                }
            )
        }
    )
    doc = {
        "authorization_endpoint": "https://id.example.test/a",
        "token_endpoint": "https://id.example.test/t",
    }
    with Server(httpx.Response(200, json=doc)).client() as http:
        app = oauth.discover(http, _app(provider))
    assert app.endpoints.authorize == "https://id.example.test/a"
    assert app.endpoints.token == "https://id.example.test/t" and app.endpoints.revoke == f"{p.BASE}/revoke"
    doc["token_endpoint"] = "http://id.example.test/t"
    with Server(httpx.Response(200, json=doc)).client() as http, pytest.raises(ConfigError, match="https"):
        oauth.discover(http, _app(provider))


def test_plain_http_is_refused_outside_loopback():
    with pytest.raises(ConfigError, match=r"redirect URI .* must use https"):
        oauth.App(p.ROTATING, "production", "c", "s", "http://sync.example.com/cb")
    with pytest.raises(ConfigError, match="authorize URL must use https"):
        oauth.App(
            QUICKBOOKS, "local", "c", "s", "http://127.0.0.1:9/cb", local_base="http://sandbox.example.com"
        )
    local = oauth.App(
        QUICKBOOKS, "local", "c", "s", "http://127.0.0.1:9/cb", local_base="http://127.0.0.1:8701"
    )
    assert local.endpoints.token == "http://127.0.0.1:8701/oauth2/v1/tokens/bearer"
