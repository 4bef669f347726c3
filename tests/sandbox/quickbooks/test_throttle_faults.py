"""Throttling, fault injection, webhooks delivery and SQLite persistence, over raw HTTP."""

from __future__ import annotations

import asyncio
import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.common.faults import Decision, FaultInjector, FaultSettings
from sandbox.common.server import LocalServer
from sandbox.quickbooks.webhooks import sign
from tests.sandbox.quickbooks.conftest import BASIC, Sandbox, make_sandbox

Client = tuple[str, httpx.Client]


def test_requests_per_minute_429_xml_then_json(qbo: Sandbox, realm: Client) -> None:
    realm_id, api = realm
    qbo.admin("POST", "limits", {"realm": realm_id, "requests_per_minute": 3})
    assert [api.get("/customer/1").status_code for _ in range(3)] == [200, 200, 200]
    throttled = api.get("/customer/1")
    assert throttled.status_code == 429 and throttled.headers["intuit_tid"]
    assert throttled.headers["content-type"] == "application/xml"
    assert '<Error code="3001">' in throttled.text
    assert "message=ThrottleExceeded; errorCode=003001; statusCode=429" in throttled.text
    qbo.admin("POST", "limits", {"realm": realm_id, "throttle_xml": False})
    fault = api.get("/customer/1").json()["Fault"]
    assert fault["Error"][0]["code"] == "3001" and fault["type"] == "SERVICE"
    qbo.clock.advance(61)
    assert api.get("/customer/1").status_code == 200
    assert qbo.admin("GET", f"stats?realm={realm_id}")["throttled"] == 2


def test_requests_per_second_option(qbo: Sandbox, realm: Client) -> None:
    realm_id, api = realm
    qbo.admin("POST", "limits", {"realm": realm_id, "requests_per_second": 2})
    assert [api.get("/customer/1").status_code for _ in range(3)] == [200, 200, 429]
    qbo.clock.advance(1.5)
    assert api.get("/customer/1").status_code == 200


def test_batch_requests_per_minute_and_items_option(qbo: Sandbox, realm: Client) -> None:
    realm_id, api = realm
    qbo.admin("POST", "limits", {"realm": realm_id, "batch_requests_per_minute": 2})
    batch = {"BatchItemRequest": [{"bId": str(i), "Query": "select * from Term"} for i in range(10)]}
    assert [api.post("/batch", json=batch).status_code for _ in range(3)] == [200, 200, 429]
    assert api.get("/customer/1").status_code == 200  # plain requests are not batch requests
    qbo.clock.advance(61)
    qbo.admin(
        "POST",
        "limits",
        {
            "realm": realm_id,
            "batch_requests_per_minute": 40,
            "requests_per_minute": 12,
            "batch_items_count_toward_limit": True,
        },
    )
    assert api.post("/batch", json=batch).status_code == 200  # 10 items count as 10 requests
    assert api.get("/customer/1").status_code == 200
    assert api.get("/customer/1").status_code == 200
    assert api.get("/customer/1").status_code == 429


def test_concurrency_limit(qbo: Sandbox, realm: Client) -> None:
    realm_id, _ = realm
    qbo.admin("POST", "limits", {"realm": realm_id, "concurrent_requests": 2})
    qbo.admin("POST", "faults", {"realm": realm_id, "latency_ms": 1500})
    token = qbo.admin("POST", "tokens", {"realm_id": realm_id})["access_token"]
    clients = [qbo.api(realm_id, token) for _ in range(5)]
    start = threading.Barrier(5)

    def call(index: int) -> int:
        start.wait()
        return clients[index].get("/customer/1").status_code

    try:
        with ThreadPoolExecutor(max_workers=5) as pool:
            statuses = sorted(pool.map(call, range(5)))
    finally:
        for client in clients:
            client.close()
    assert statuses.count(200) == 2 and statuses.count(429) == 3


def test_error_rate_answers_5xx_and_applies_nothing(qbo: Sandbox, realm: Client) -> None:
    realm_id, api = realm
    qbo.admin("POST", "faults", {"realm": realm_id, "error_rate": 1.0})
    response = api.post("/customer", json={"DisplayName": "Never Stored"})
    assert response.status_code in (500, 503)
    qbo.admin("POST", "faults", {"realm": realm_id, "error_rate": 0.0})
    names = [c["DisplayName"] for c in qbo.admin("GET", f"realms/{realm_id}/entities/Customer")["items"]]
    assert "Never Stored" not in names
    stats = qbo.admin("GET", f"stats?realm={realm_id}")
    assert stats["faults_injected"] == 1 and stats["faults_by_kind"] == {"error": 1}


def test_drop_applies_the_write_and_requestid_recovers_it(qbo: Sandbox, realm: Client) -> None:
    realm_id, api = realm
    qbo.admin("POST", "faults", {"realm": realm_id, "drop_rate": 1.0})
    with pytest.raises(httpx.TransportError):
        api.post("/customer", params={"requestid": "drop-1"}, json={"DisplayName": "Dropped Co"})
    qbo.admin("POST", "faults", {"realm": realm_id, "drop_mode": "502"})
    gateway = api.post("/customer", params={"requestid": "drop-2"}, json={"DisplayName": "Gateway Co"})
    assert gateway.status_code == 502
    assert api.get("/customer/1").status_code == 200  # reads are never dropped
    qbo.admin("POST", "faults", {"realm": realm_id, "drop_mode": "hang", "drop_hang_s": 1.0})
    with pytest.raises(httpx.ReadTimeout):
        api.post("/customer", json={"DisplayName": "Hung Co"}, timeout=0.3)
    qbo.admin("POST", "faults", {"realm": realm_id, "drop_rate": 0.0})
    retry = api.post("/customer", params={"requestid": "drop-1"}, json={"DisplayName": "Dropped Co"})
    assert retry.status_code == 200 and retry.json()["Customer"]["DisplayName"] == "Dropped Co"
    names = [c["DisplayName"] for c in qbo.admin("GET", f"realms/{realm_id}/entities/Customer")["items"]]
    assert names.count("Dropped Co") == 1 and names.count("Gateway Co") == 1 and names.count("Hung Co") == 1
    # Without the requestid, the retry is a duplicate attempt: QBO answers 6240.
    assert (
        api.post("/customer", json={"DisplayName": "Gateway Co"}).json()["Fault"]["Error"][0]["code"]
        == "6240"
    )


def test_throttle_burst_and_fault_settings_roundtrip(qbo: Sandbox, realm: Client) -> None:
    realm_id, api = realm
    out = qbo.admin("POST", "faults", {"realm": realm_id, "throttle": 2, "jitter_ms": 1})
    assert out["throttle_pending"] == 2 and out["jitter_ms"] == 1
    assert [api.get("/customer/1").status_code for _ in range(3)] == [429, 429, 200]
    assert qbo.admin("POST", "faults", {"realm": realm_id, "error_rate": 2}, expect=400)["error"]
    assert qbo.admin("POST", "faults", {"realm": "nope"}, expect=404)["error"]
    assert qbo.admin("GET", f"faults?realm={realm_id}")["jitter_ms"] == 1


def test_global_faults_reach_every_realm(qbo: Sandbox) -> None:
    realm_id, tokens = qbo.realm()
    qbo.admin("POST", "faults", {"error_rate": 1.0})
    try:
        with qbo.api(realm_id, tokens["access_token"]) as api:
            assert api.get("/customer/1").status_code in (500, 503)
    finally:
        qbo.admin("POST", "faults", {"error_rate": 0.0})


class FlakyReceiver:
    """Answers 500 to the first `failures` deliveries, then 200; records bodies and headers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.ok = threading.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            msg = await receive()
            body += msg.get("body", b"")
            more = msg.get("more_body", False)
        self.calls.append(({k.decode(): v.decode() for k, v in scope["headers"]}, body))
        status = 500 if len(self.calls) <= self.failures else 200
        if status == 200:
            self.ok.set()
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def test_webhooks_retry_and_cloudevents(qbo: Sandbox, realm: Client) -> None:
    realm_id, api = realm
    receiver = FlakyReceiver(failures=1)
    with LocalServer(receiver) as hook:
        qbo.admin("POST", "webhooks", {"url": hook.url, "verifier_token": "vt", "format": "cloudevents"})
        try:
            invoice = {
                "CustomerRef": {"value": "1"},
                "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 5, "SalesItemLineDetail": {}}],
            }
            created = api.post("/invoice", json=invoice).json()["Invoice"]
            assert receiver.ok.wait(5)
            qbo.admin("POST", "webhooks/flush")
        finally:
            qbo.admin("POST", "webhooks", {"url": None, "format": "legacy"})
    assert len(receiver.calls) == 2 and receiver.calls[0][1] == receiver.calls[1][1]
    headers, body = receiver.calls[1]
    assert headers["intuit-signature"] == sign(body, "vt")
    event = json.loads(body)[0]
    assert event["specversion"] == "1.0" and event["type"] == "qbo.invoice.created.v1"
    assert event["intuitentityid"] == created["Id"] and event["intuitaccountid"] == realm_id
    deliveries = qbo.admin("GET", "webhooks/deliveries")["deliveries"]
    assert deliveries[-1]["attempts"] == 2 and deliveries[-1]["delivered"] is True
    assert qbo.admin("GET", f"stats?realm={realm_id}")["webhooks_sent"] == 1


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "qbo.sqlite"
    server, sandbox = make_sandbox(state_file=str(state))
    try:
        realm_id, tokens = sandbox.realm()
        with sandbox.api(realm_id, tokens["access_token"]) as api:
            cust = api.post("/customer", json={"DisplayName": "Persisted Co"}).json()["Customer"]
            api.post("/customer", json={"Id": cust["Id"], "SyncToken": "0", "sparse": True, "Notes": "kept"})
            inv = {
                "CustomerRef": {"value": cust["Id"]},
                "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 12.5, "SalesItemLineDetail": {}}],
            }
            invoice = api.post("/invoice", json=inv).json()["Invoice"]
            api.post("/invoice", params={"operation": "delete"}, json={"Id": invoice["Id"], "SyncToken": "0"})
    finally:
        server.stop()
    server, sandbox = make_sandbox(state_file=str(state))
    try:
        with sandbox.api(realm_id, tokens["access_token"]) as api:
            again = api.get(f"/customer/{cust['Id']}")
            assert again.status_code == 200, again.text
            assert (
                again.json()["Customer"]["Notes"] == "kept" and again.json()["Customer"]["SyncToken"] == "1"
            )
            assert api.get(f"/invoice/{invoice['Id']}").status_code == 400  # deleted stays deleted
            fresh = api.post("/customer", json={"DisplayName": "After Restart"}).json()["Customer"]
            assert int(fresh["Id"]) > int(invoice["Id"])  # the id counter survived too
        refreshed = httpx.post(
            f"{sandbox.url}/oauth2/v1/tokens/bearer",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=BASIC,
        )
        assert refreshed.status_code == 200
        deleted = sandbox.admin("GET", f"realms/{realm_id}/entities/Invoice?deleted=true")["items"]
        assert any(i.get("status") == "Deleted" for i in deleted)
    finally:
        server.stop()


def test_realm_faults_from_the_start() -> None:
    server, sandbox = make_sandbox(realm_faults={"77": FaultSettings(error_rate=1.0)})
    try:
        sick, tokens = sandbox.realm(realm_id="77")
        healthy, other = sandbox.realm()
        with sandbox.api(sick, tokens["access_token"]) as api:
            assert api.get("/customer/1").status_code in (500, 503)
        with sandbox.api(healthy, other["access_token"]) as api:
            assert api.get("/customer/1").status_code == 200
    finally:
        server.stop()


def test_reset_forgets_everything(qbo: Sandbox) -> None:
    realm_id, tokens = qbo.realm()
    qbo.admin("POST", "reset")
    assert qbo.admin("GET", "realms")["realms"] == []
    with qbo.api(realm_id, tokens["access_token"]) as api:
        assert api.get("/customer/1").status_code == 401


# ---------------------------------------------------------------- the shared fault module


def test_fault_injector_draws_and_bursts() -> None:
    inj = FaultInjector(FaultSettings(error_rate=0.5, drop_rate=0.5), rng=random.Random(3))
    decisions = [inj.decide(is_write=True) for _ in range(400)]
    errors = decisions.count(Decision.ERROR)
    drops = decisions.count(Decision.DROP)
    assert 150 < errors < 250 and 50 < drops < 150
    assert all(inj.decide(is_write=False) is not Decision.DROP for _ in range(100))
    inj.arm_throttle(2)
    assert [inj.decide(False) for _ in range(2)] == [Decision.THROTTLE, Decision.THROTTLE]
    assert inj.counts["throttle"] == 2 and inj.counts["error"] >= errors
    assert inj.error_status() in (500, 503)
    with pytest.raises(ValueError, match="error_rate"):
        FaultSettings(error_rate=1.5)
    with pytest.raises(ValueError, match="drop_mode"):
        FaultSettings().updated(drop_mode="explode")


def test_fault_injector_delay_uses_the_given_sleep() -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    inj = FaultInjector(FaultSettings(latency_ms=100, jitter_ms=50), rng=random.Random(1), sleep=fake_sleep)
    asyncio.run(inj.delay())
    assert 0.1 <= slept[0] <= 0.15
    asyncio.run(FaultInjector(sleep=fake_sleep).delay())
    assert len(slept) == 1
