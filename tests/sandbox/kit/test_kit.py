"""The sandbox kit over real sockets: the OAuth server in each rotation mode and client-auth style, the
admin contract, the consent page's denial, https with a certificate made at start, and webhook signatures
that the connector side's verifiers accept for every scheme."""

from __future__ import annotations

import base64
import ssl
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from connectors.kit.provider import Webhooks
from connectors.kit.webhooks import SignatureError, verify
from sandbox.common.server import LocalServer
from sandbox.kit.app import Kit
from sandbox.kit.clock import Clock
from sandbox.kit.oauth import OAuthServer, OAuthSpec, TenantHooks
from sandbox.kit.spec import KitOptions, SandboxSpec
from sandbox.kit.tls import self_signed
from sandbox.kit.webhooks import Signing, signature_headers
from tests.connectors.kit import providers as shapes
from tests.processes import finish

ROOT = Path(__file__).resolve().parents[3]
REDIRECT = "http://127.0.0.1:9/callback"
SPEC = OAuthSpec(client_id="c1", client_secret="s1", tenant_param="account_id", grace_s=60)


class Running:
    def __init__(self, kit: Kit, url: str) -> None:
        self.kit, self.url = kit, url
        self.http = httpx.Client(base_url=url, timeout=10)

    def admin(self, method: str, path: str, json: Any = None, expect: int = 200) -> Any:
        response = self.http.request(method, f"/__sandbox/{path}", json=json)
        assert response.status_code == expect, response.text
        return response.json()

    def token(self, **form: str) -> httpx.Response:
        return self.http.post("/oauth/token", data={"client_id": "c1", "client_secret": "s1", **form})


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[LocalServer] = []
    running: list[Running] = []

    def start(**changes: Any) -> Running:
        tenants: set[str] = set()

        def create(wanted: str | None) -> str:
            tenants.add(wanted or f"acct_{len(tenants) + 1}")
            return wanted or f"acct_{len(tenants)}"

        kit = Kit(
            SandboxSpec(
                name="example", title="Example", oauth=replace(SPEC, **changes), scope_param="account"
            ),
            KitOptions(clock=Clock(datetime(2026, 1, 1, tzinfo=UTC), frozen=True)),
            TenantHooks(create=create, exists=tenants.__contains__),
        )
        server = LocalServer(kit.app([])).start()
        servers.append(server)
        running.append(Running(kit, server.url))
        return running[-1]

    yield start
    for sandbox in running:
        sandbox.http.close()
    for server in servers:
        server.stop()


def test_admin_tokens_name_the_tenant_and_the_contract_endpoints_answer(serve):
    sb = serve()
    new = sb.admin("POST", "tokens")
    assert new["account_id"] == "acct_1" and new["access_token"] and new["refresh_token"]
    assert sb.admin("POST", "tokens", {"tenant_id": "acct_1"})["account_id"] == "acct_1"
    assert sb.admin("POST", "tokens", {"tenant_id": "nope"}, expect=404) == {"error": "no account nope"}
    faults = sb.admin("POST", "faults", {"account": "acct_1", "error_rate": 0.5, "throttle": 2})
    assert faults["account"] == "acct_1" and faults["error_rate"] == 0.5 and faults["throttle_pending"] == 2
    assert sb.admin("POST", "faults", {"error_rate": 7}, expect=400)["error"].startswith("error_rate")
    assert sb.admin("GET", "stats")["oauth"] == {}
    assert sb.admin("POST", "clock", {"advance_seconds": 30})["now"].startswith("2026-01-01T00:00:30")
    assert sb.admin("GET", "nothing/here", expect=404)["error"].startswith("no admin endpoint")
    assert sb.admin("POST", "reset") == {"ok": True}
    assert sb.admin("GET", "tokens") == {"access_tokens": [], "refresh_tokens": []}


def test_rotating_revoke_kills_the_old_refresh_token_at_once(serve):
    sb = serve(rotation="rotating_revoke")
    first = sb.admin("POST", "tokens")["refresh_token"]
    second = sb.token(grant_type="refresh_token", refresh_token=first).json()["refresh_token"]
    assert second != first
    assert sb.token(grant_type="refresh_token", refresh_token=first).json()["error"] == "invalid_grant"


def test_rotating_grace_answers_the_current_token_during_the_grace(serve):
    sb = serve(rotation="rotating_grace")
    first = sb.admin("POST", "tokens")["refresh_token"]
    second = sb.token(grant_type="refresh_token", refresh_token=first).json()["refresh_token"]
    assert sb.token(grant_type="refresh_token", refresh_token=first).json()["refresh_token"] == second
    sb.kit.clock.advance(61)
    assert sb.token(grant_type="refresh_token", refresh_token=first).status_code == 400


def test_non_rotating_and_remint(serve):
    sb = serve(rotation="non_rotating", tenant_in_token=True)
    first = sb.admin("POST", "tokens")["refresh_token"]
    again = sb.token(grant_type="refresh_token", refresh_token=first).json()
    assert again["refresh_token"] == first and again["account_id"] == "acct_1"
    minted = serve(rotation="remint")
    assert "refresh_token" not in minted.admin("POST", "tokens")
    fresh = minted.token(grant_type="client_credentials").json()
    assert fresh["access_token"] and "refresh_token" not in fresh
    assert (
        minted.token(grant_type="refresh_token", refresh_token="x").json()["error"]
        == "unsupported_grant_type"
    )


def test_client_authentication_follows_the_spec(serve):
    basic_only = serve(token_auth="basic")
    assert basic_only.token(grant_type="refresh_token", refresh_token="x").status_code == 401
    answer = basic_only.http.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "x"}, auth=("c1", "s1")
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    body_only = serve(token_auth="body")
    refused = body_only.http.post("/oauth/token", data={"grant_type": "refresh_token"}, auth=("c1", "s1"))
    assert refused.status_code == 401


def test_consent_page_denial_and_discovery(serve):
    sb = serve(consent="page")
    doc = sb.http.get("/.well-known/openid-configuration").json()
    assert doc["authorization_endpoint"] == f"{sb.url}/oauth/authorize"
    query = {"client_id": "c1", "redirect_uri": REDIRECT, "response_type": "code", "state": "s"}
    page = sb.http.get("/oauth/authorize", params=query)
    assert page.status_code == 200 and 'value="deny"' in page.text
    denied = sb.http.post("/oauth/authorize", data={**query, "decision": "deny"})
    back = parse_qs(urlsplit(denied.headers["location"]).query)
    assert denied.status_code == 302 and back == {"error": ["access_denied"], "state": ["s"]}
    approved = sb.http.post("/oauth/authorize", data={**query, "decision": "approve"})
    code = parse_qs(urlsplit(approved.headers["location"]).query)
    exchanged = sb.token(grant_type="authorization_code", code=code["code"][0], redirect_uri=REDIRECT)
    assert exchanged.status_code == 200 and code["account_id"] == ["acct_1"]


def test_tls_serves_https_with_a_certificate_made_at_start(tmp_path):
    files = self_signed(folder=str(tmp_path))
    kit = Kit(SandboxSpec(name="example", title="Example", oauth=SPEC), KitOptions(), TenantHooks(str, bool))
    with LocalServer(kit.app([]), tls=(files.certfile, files.keyfile)) as server:
        assert server.url.startswith("https://")
        trusted = ssl.create_default_context(cafile=files.certfile)
        doc = httpx.get(f"{server.url}/.well-known/openid-configuration", verify=trusted, timeout=10).json()
        assert doc["token_endpoint"] == f"{server.url}/oauth/token"
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.url}/.well-known/openid-configuration", timeout=10)  # not trusted by default


@pytest.mark.parametrize(
    "shape",
    [shapes.STRIPE_LIKE, shapes.SLACK_LIKE, shapes.INTUIT_LIKE, shapes.SQUARE_LIKE, shapes.GOOGLE_LIKE],
    ids=["stripe", "slack", "intuit", "square", "google"],
)
def test_sandbox_signatures_verify_with_the_connector_verifiers(shape: Webhooks):
    assert shape.header is not None and shape.scheme != "none"
    signing = Signing(
        scheme=shape.scheme,
        header=shape.header,
        algorithm=shape.algorithm,
        encoding=shape.encoding,
        timestamp_header=shape.timestamp_header,
        signature_item=shape.signature_item,
        signed_format=shape.signed_format,
        signature_prefix=shape.signature_prefix,
    )
    body, url, now = b'{"id":"evt_1"}', "https://sync.example.com/webhooks/x", 1_800_000_000.0
    headers = signature_headers(signing, "s3cret", body, url, now)
    verify(shape, body, headers, ["s3cret"], now=now, url=url)
    with pytest.raises(SignatureError):
        verify(shape, body, headers, ["another"], now=now, url=url)


def test_unknown_provider_is_a_one_line_error_naming_the_known_ones():
    cmd = [
        sys.executable,
        "-c",
        "from sierra_sync.cli.main import main; main()",
        "sandbox",
        "--provider",
        "netsuite",
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0 and done.stderr.strip().count("\n") == 0
    assert "no sandbox called 'netsuite'; known: quickbooks, stripe, xero" in done.stderr


def test_one_provider_over_tls_from_the_command_line():
    cmd = [sys.executable, "-c", "from sierra_sync.cli.main import main; main()", "sandbox"]
    cmd += ["--provider", "quickbooks", "--port", "0", "--tls"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        seen, url, cafile = "", None, None
        for _ in range(50):
            line = proc.stdout.readline()
            seen += line
            if line.startswith("QuickBooks Online sandbox:"):
                url = line.split()[3]
            if line.startswith("TLS certificate"):
                cafile = line.rsplit(" ", 1)[1].strip()
            if "Ctrl-C" in line or not line:
                break
        assert url is not None and url.startswith("https://") and cafile is not None, seen
        assert "Stripe" not in seen  # only the sandbox asked for
        trusted = ssl.create_default_context(cafile=cafile)
        doc = httpx.get(f"{url}/.well-known/openid_configuration", verify=trusted, timeout=10).json()
        assert doc["token_endpoint"] == f"{url}/oauth2/v1/tokens/bearer"
    finally:
        out = finish(proc)
    assert proc.returncode == 0, out


class ConnectStyle(OAuthServer):
    """A Stripe Connect-like flow on the kit: the secret key authenticates the token call (as Basic user
    name), access tokens never expire, and the app deauthorizes an account rather than revoking a token."""

    def client_ok(self, headers: Mapping[str, str], form: Mapping[str, str]) -> bool:
        return headers.get("authorization") == "Basic " + base64.b64encode(b"sk_test_1:").decode()

    def routes(self) -> list[BaseRoute]:
        return [*super().routes(), Route("/oauth/deauthorize", self.deauthorize, methods=["POST"])]

    async def deauthorize(self, request: Request) -> Response:
        account = _form_of(await request.body()).get("stripe_user_id", "")
        for grant in self.grants.values():
            if grant.tenant_id == account:
                self.revoke_grant(grant)
        return Response(f'{{"stripe_user_id":"{account}"}}', media_type="application/json")


def _form_of(raw: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(raw.decode()).items()}


def test_a_provider_plugs_in_its_own_oauth_server():
    tenants = {"acct_9"}
    spec = SandboxSpec(
        name="connect",
        title="Connect",
        oauth=replace(SPEC, tenant_param="stripe_user_id", tenant_in_token=True, rotation="non_rotating"),
        oauth_server=ConnectStyle,
    )
    kit = Kit(spec, KitOptions(), TenantHooks(create=lambda _: "acct_9", exists=tenants.__contains__))
    with LocalServer(kit.app([])) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        issued = http.post("/__sandbox/tokens", json={"tenant_id": "acct_9"}).json()
        assert issued["stripe_user_id"] == "acct_9"
        refresh = {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]}
        assert (
            http.post("/oauth/token", data=refresh, auth=("sk_test_1", "")).json()["stripe_user_id"]
            == "acct_9"
        )
        assert http.post("/oauth/token", data=refresh, auth=("c1", "s1")).status_code == 401
        assert http.post("/oauth/deauthorize", data={"stripe_user_id": "acct_9"}).status_code == 200
        assert (
            http.post("/oauth/token", data=refresh, auth=("sk_test_1", "")).json()["error"] == "invalid_grant"
        )
