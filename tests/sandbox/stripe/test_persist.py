"""A Stripe sandbox with a state file keeps its objects, events and clock across a restart; endpoints come
from the options at each start; an unreadable file is one clear error."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from sandbox.common.server import LocalServer
from sandbox.stripe import StripeSandboxOptions, WebhookEndpointOptions, create_app
from tests.sandbox.stripe.conftest import API_KEY

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def _options(state_file: Path, endpoints: list[WebhookEndpointOptions] | None = None) -> StripeSandboxOptions:
    return StripeSandboxOptions(
        seed=3, state_file=str(state_file), webhook_auto_deliver=False, webhook_endpoints=endpoints or []
    )


def test_objects_events_and_clock_survive_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "stripe.json"
    with LocalServer(create_app(_options(state_file))) as server:
        made = httpx.post(f"{server.url}/v1/customers", data={"name": "Summit Ridge"}, headers=AUTH).json()
        moved = httpx.post(f"{server.url}/__sandbox/clock", json={"advance_days": 3}).json()["now"]
    assert state_file.exists()  # written at shutdown at the latest
    endpoint = WebhookEndpointOptions("http://127.0.0.1:9/hooks", "whsec_test")
    with LocalServer(create_app(_options(state_file, [endpoint]))) as server:
        again = httpx.get(f"{server.url}/v1/customers/{made['id']}", headers=AUTH)
        events = httpx.get(f"{server.url}/v1/events", headers=AUTH).json()["data"]
        endpoints = httpx.get(f"{server.url}/v1/webhook_endpoints", headers=AUTH).json()["data"]
        now = httpx.get(f"{server.url}/__sandbox/clock").json()["now"]
    assert again.status_code == 200 and again.json()["name"] == "Summit Ridge"
    assert [e["type"] for e in events] == ["customer.created"]
    assert [e["url"] for e in endpoints] == ["http://127.0.0.1:9/hooks"]  # this start's, not the file's
    assert now >= moved  # three days ahead still


def test_an_unreadable_state_file_is_one_clear_error(tmp_path: Path) -> None:
    state_file = tmp_path / "stripe.json"
    state_file.write_text("{broken")
    with pytest.raises(ValueError, match=r"stripe\.json is not readable"):
        create_app(_options(state_file))
