"""The demo hands its Stripe Connect accounts to the local world: `Sandboxes.start(state_dir=...)` empties
the Stripe sandbox's state files (stripe.json and the Connect file next to it) and keeps them there, and a
sandbox started as `up` starts it still knows the demo's connected account and its access token."""

from __future__ import annotations

from pathlib import Path

import httpx

from sandbox.common.server import LocalServer
from sandbox.registry import SandboxSettings, get_sandbox
from sandbox.stripe.persist import connect_file
from sierra_sync.demo import world
from sierra_sync.world.up import STRIPE_STATE

PLATFORM = {"Authorization": "Bearer sk_test_demo_platform_0001"}


def test_the_demo_leaves_its_stripe_connections_where_up_reads_them(tmp_path: Path) -> None:
    state_dir = tmp_path / "sandbox"
    state_dir.mkdir()
    connect_file(state_dir / STRIPE_STATE).write_bytes(b"an old run's file")  # emptied, not read
    sandboxes = world.Sandboxes.start(state_dir=state_dir)
    try:
        assert sandboxes.stripe is not None
        url = sandboxes.stripe.url
        token = httpx.post(f"{url}/__sandbox/tokens", json={}, timeout=10).json()
        account = token["stripe_user_id"]
        on_behalf = {**PLATFORM, "Stripe-Account": account}
        made = httpx.post(f"{url}/v1/customers", data={"name": "Demo Customer"}, headers=on_behalf)
        assert made.status_code == 200, made.text
    finally:
        sandboxes.stop()
    app = get_sandbox("stripe").build(SandboxSettings(stripe_state_file=str(state_dir / STRIPE_STATE)))
    with LocalServer(app) as server:
        own_key = {"Authorization": f"Bearer {token['access_token']}"}
        listed = httpx.get(f"{server.url}/v1/customers", headers=own_key, timeout=10)
        assert listed.status_code == 200, listed.text
        assert [c["name"] for c in listed.json()["data"]] == ["Demo Customer"]
        via_header = httpx.get(f"{server.url}/v1/customers", headers=on_behalf)
        assert via_header.status_code == 200, via_header.text
