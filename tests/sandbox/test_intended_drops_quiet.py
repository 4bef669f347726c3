"""A dropped response the sandbox injects on purpose is not logged as an ERROR (a demo or bench with
faults must print none), while the client still sees the connection die."""

from __future__ import annotations

import logging

import httpx
import pytest

from sandbox.common.server import LocalServer
from sandbox.quickbooks import SandboxOptions, create_app


def test_intended_drop_reaches_the_client_but_not_the_error_log(caplog):
    # h11 is the protocol that reports an unfinished response as an ERROR (httptools stays silent)
    server = LocalServer(create_app(SandboxOptions(drop_rate=1.0)), http="h11")
    # uvicorn configured its loggers while the server was built (replacing handlers, no propagation to
    # the root logger): listen on its error logger from now on, behind the logger's own filters.
    uvicorn_errors = logging.getLogger("uvicorn.error")
    uvicorn_errors.addHandler(caplog.handler)
    try:
        with server:
            realm = httpx.post(f"{server.url}/__sandbox/realms", json={}, timeout=10).json()
            realm_id = realm.get("realm_id") or realm["id"]
            token = httpx.post(
                f"{server.url}/__sandbox/tokens", json={"realm_id": realm_id}, timeout=10
            ).json()
            with pytest.raises(httpx.TransportError):
                httpx.post(
                    f"{server.url}/v3/company/{realm_id}/customer?minorversion=75&requestid=drop-1",
                    json={"DisplayName": "Dropped Response Builders"},
                    headers={"Authorization": f"Bearer {token['access_token']}"},
                    timeout=10,
                )
    finally:
        uvicorn_errors.removeHandler(caplog.handler)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
