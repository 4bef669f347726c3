"""The kit's OAuth state on a state file, over real sockets: a revoked connection (through the revoke
endpoint, or a provider's own route calling `revoke_grant`) is still revoked after a restart on the same
file while the other connections keep working; a state file written before revocations were kept loads its
grants as not revoked."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.common.server import LocalServer
from sandbox.kit.app import Kit
from sandbox.kit.clock import Clock
from sandbox.kit.oauth import OAuthServer, OAuthSpec, TenantHooks
from sandbox.kit.spec import KitOptions, SandboxSpec

SPEC = OAuthSpec(client_id="c1", client_secret="s1", tenant_param="account_id", rotation="non_rotating")
CLIENT = {"client_id": "c1", "client_secret": "s1"}


class Disconnecting(OAuthServer):
    """A provider with its own disconnect route (as Xero's DELETE /connections or Stripe's deauthorize)."""

    def routes(self) -> list[BaseRoute]:
        return [*super().routes(), Route("/disconnect/{tenant}", self.disconnect, methods=["POST"])]

    async def disconnect(self, request: Request) -> Response:
        tenant = str(request.path_params["tenant"])
        ended = [self.revoke_grant(g) for g in list(self.grants.values()) if g.tenant_id == tenant]
        return Response(json.dumps({"ended": sum(ended)}), media_type="application/json")


class Sandbox:
    """One run of a kit sandbox on `state`; `restart()` stops it and serves the same file again."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.server: LocalServer | None = None
        self.kit: Kit | None = None
        self.url = ""
        self.start()

    def start(self) -> None:
        tenants: set[str] = set()

        def create(wanted: str | None) -> str:
            tenant = wanted or f"acct_{secrets.token_hex(4)}"
            tenants.add(tenant)
            return tenant

        self.kit = Kit(
            SandboxSpec(name="example", title="Example", oauth=replace(SPEC), oauth_server=Disconnecting),
            KitOptions(clock=Clock(), state_file=str(self.state)),
            TenantHooks(create=create, exists=tenants.__contains__),
        )
        self.server = LocalServer(self.kit.app([])).start()
        self.url = self.server.url

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def connect(self) -> dict[str, Any]:
        answer = httpx.post(f"{self.url}/__sandbox/tokens", json={}, timeout=10)
        assert answer.status_code == 200, answer.text
        tokens: dict[str, Any] = answer.json()
        return tokens

    def refresh(self, refresh_token: str) -> httpx.Response:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, **CLIENT}
        return httpx.post(f"{self.url}/oauth/token", data=form, timeout=10)

    def listed(self) -> dict[str, bool]:
        """Every refresh token the admin API lists, with whether it is revoked."""
        rows = httpx.get(f"{self.url}/__sandbox/tokens", timeout=10).json()["refresh_tokens"]
        return {row["token"]: row["revoked"] for row in rows}


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    running = Sandbox(tmp_path / "state" / "example.sqlite")
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.parametrize("route", ["revoke_endpoint", "provider_route"])
def test_a_revoked_connection_stays_revoked_after_a_restart(sandbox: Sandbox, route: str) -> None:
    gone, kept = sandbox.connect(), sandbox.connect()
    if route == "revoke_endpoint":
        answer = httpx.post(
            f"{sandbox.url}/oauth/revoke", data={"token": gone["refresh_token"], **CLIENT}, timeout=10
        )
        assert answer.status_code == 200, answer.text
    else:
        answer = httpx.post(f"{sandbox.url}/disconnect/{gone['account_id']}", timeout=10)
        assert answer.json() == {"ended": 1}
    assert sandbox.refresh(gone["refresh_token"]).status_code == 400  # before the restart already

    sandbox.restart()
    refused = sandbox.refresh(gone["refresh_token"])
    assert refused.status_code == 400
    assert refused.json() == {"error": "invalid_grant", "error_description": "Token invalid"}
    assert sandbox.listed() == {gone["refresh_token"]: True, kept["refresh_token"]: False}
    assert sandbox.kit is not None and sandbox.kit.oauth is not None
    bearer = f"Bearer {gone['access_token']}"
    assert sandbox.kit.oauth.authenticate(bearer, gone["account_id"]) == "invalid"
    assert sandbox.kit.oauth.authenticate(f"Bearer {kept['access_token']}", kept["account_id"]) == "ok"
    assert sandbox.refresh(kept["refresh_token"]).status_code == 200  # the other connection still works
    if route == "provider_route":  # already ended: nothing changes (and nothing is written again)
        again = httpx.post(f"{sandbox.url}/disconnect/{gone['account_id']}", timeout=10)
        assert again.json() == {"ended": 0}


def test_a_state_file_from_before_revocations_were_kept_loads_its_grants_as_not_revoked(
    sandbox: Sandbox,
) -> None:
    tokens = sandbox.connect()
    sandbox.stop()
    with sqlite3.connect(sandbox.state) as db:  # rewrite the grant as an older kit wrote it
        rows = db.execute("SELECT key, value FROM kv WHERE ns = 'oauth_grant'").fetchall()
        assert len(rows) == 1
        old = json.loads(rows[0][1])
        assert old.pop("revoked") is False
        db.execute("UPDATE kv SET value = ? WHERE ns = 'oauth_grant'", (json.dumps(old),))
    sandbox.start()
    assert sandbox.refresh(tokens["refresh_token"]).status_code == 200
    assert sandbox.listed() == {tokens["refresh_token"]: False}
    # and revoking it now writes the field, so it survives the next restart
    httpx.post(f"{sandbox.url}/oauth/revoke", data={"token": tokens["access_token"], **CLIENT}, timeout=10)
    sandbox.restart()
    assert sandbox.refresh(tokens["refresh_token"]).json() == {
        "error": "invalid_grant",
        "error_description": "Token invalid",
    }
