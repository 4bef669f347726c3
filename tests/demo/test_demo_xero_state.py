"""The demo hands its Xero organisation to the local world: `Sandboxes.start(state_dir=...)` keeps the Xero
sandbox's state in the file `sierra-sync up` gives the sandbox (emptied first), and a sandbox started as `up`
starts it serves that organisation to the demo's tokens."""

from __future__ import annotations

from pathlib import Path

import httpx

from sandbox.common.server import LocalServer
from sandbox.registry import SandboxSettings, get_sandbox
from sierra_sync.demo import world
from sierra_sync.world.up import XERO_STATE


def test_the_demo_leaves_its_xero_organisation_where_up_reads_it(tmp_path: Path) -> None:
    state_dir = tmp_path / "sandbox"
    state_dir.mkdir()
    (state_dir / XERO_STATE).write_bytes(b"an old run's file")  # emptied, not read
    sandboxes = world.Sandboxes.start(state_dir=state_dir)
    try:
        assert sandboxes.xero is not None
        url = sandboxes.xero.url
        tokens = httpx.post(f"{url}/__sandbox/tokens", json={}, timeout=10).json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": tokens["tenantId"]}
        made = httpx.put(f"{url}/api.xro/2.0/Contacts", json={"Name": "Demo Customer"}, headers=headers)
        assert made.status_code == 200, made.text
    finally:
        sandboxes.stop()
    app = get_sandbox("xero").build(SandboxSettings(xero_state_file=str(state_dir / XERO_STATE)))
    with LocalServer(app) as server:
        organisation = httpx.get(f"{server.url}/api.xro/2.0/Organisation", headers=headers, timeout=10)
        assert organisation.status_code == 200, organisation.text
        assert organisation.json()["Organisations"][0]["OrganisationID"] == tokens["tenantId"]
        contacts = httpx.get(f"{server.url}/api.xro/2.0/Contacts", headers=headers, timeout=10).json()
        assert "Demo Customer" in {c["Name"] for c in contacts["Contacts"]}
