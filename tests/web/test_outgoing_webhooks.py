"""Outgoing webhooks end to end: subscribe through the API, deliveries signed and checked by a real
receiver, one that fails twice then succeeds (three attempts recorded, backoff doubling), auto-disable
after repeated failure with a WARNING line, and replay."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select, update

from connectors.outgoing_webhooks import (
    SIGNATURE_HEADER,
    DeliveryPolicy,
    deliver_due,
    emit_event,
    verify_signature,
)
from sandbox.common.server import LocalServer
from sierra_core.db.models import (
    ApiIdempotencyKey,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookSubscription,
)
from sierra_core.errors import ConfigError
from sierra_core.settings import Settings
from sierra_sync.web import AppDeps
from tests import factories
from tests.web.api_helpers import ALL, keyring


class Receiver:
    """Checks every signature with the secret it was given; answers 500 for the first `fail_first` calls."""

    def __init__(self) -> None:
        self.secret = ""
        self.fail_first = 0
        self.gone = False  # answer 410 Gone: the receiver ended the subscription
        self.calls: list[dict[str, Any]] = []
        self.app = FastAPI()

        @self.app.post("/hook")
        async def hook(request: Request) -> JSONResponse:
            body = await request.body()
            ok = verify_signature(self.secret, request.headers.get(SIGNATURE_HEADER, ""), body, now=_now_s())
            self.calls.append(
                {
                    "valid": ok,
                    "event": json.loads(body),
                    "attempt": request.headers["Sierra-Attempt"],
                    "host": request.headers["Host"],
                    "v1": request.headers.get(SIGNATURE_HEADER, "").count("v1="),
                }
            )
            if not ok:
                return JSONResponse({"error": "bad signature"}, status_code=400)
            if self.gone:
                return JSONResponse({"error": "unsubscribed"}, status_code=410)
            if len(self.calls) <= self.fail_first:
                return JSONResponse({"error": "down"}, status_code=500)
            return JSONResponse({"ok": True})


LOCAL = DeliveryPolicy(allow_private_targets=True)  # the receivers of these tests listen on 127.0.0.1


def _now_s() -> float:
    return datetime.now(UTC).timestamp()


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    rec = Receiver()
    with LocalServer(rec.app) as server:
        yield rec, f"{server.url}/hook"


@pytest.fixture
def setup(sessions, web_server, receiver) -> Iterator[dict[str, Any]]:
    from connectors.apikeys import create_key, parse_permissions

    ring = keyring()
    with sessions.begin() as s:
        company = factories.company(s)
        key = create_key(s, company.id, "hooks", parse_permissions(ALL)).raw
    deps = AppDeps(sessions=sessions, webhook_keyring=ring, webhook_allow_private=True)  # 127.0.0.1
    rec, url = receiver
    with web_server.serve(deps) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield {"client": client, "ring": ring, "company_id": company.id, "rec": rec, "url": url}


def _subscribe(env: dict[str, Any]) -> dict[str, Any]:
    r = env["client"].post(
        "/api/v1/webhooks", json={"url": env["url"], "events": ["invoice.synced", "payment.received"]}
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()["data"]
    env["rec"].secret = data["secret"]
    assert data["secret"].startswith("whsec_")
    return data


def test_signed_delivery_fails_twice_then_succeeds(setup, sessions) -> None:
    env = setup
    sub = _subscribe(env)
    # Stored sealed, never in clear; not in the subscription's public view either.
    with sessions() as s:
        stored = s.get(WebhookSubscription, uuid.UUID(sub["id"]))
        assert env["rec"].secret not in (stored.webhook_secret or "")
    assert "secret" not in env["client"].get(f"/api/v1/webhooks/{sub['id']}").json()["data"]
    # A retried create (same Idempotency-Key) gets the same secret back; none is stored in clear.
    headers = {"Idempotency-Key": "sub-1"}
    body = {"url": env["url"], "events": ["payment.received"]}
    made = env["client"].post("/api/v1/webhooks", json=body, headers=headers).json()["data"]
    again = env["client"].post("/api/v1/webhooks", json=body, headers=headers).json()["data"]
    assert again == made
    with sessions() as s:
        stored_answers = " ".join(str(r.response_body) for r in s.scalars(select(ApiIdempotencyKey)))
        assert made["secret"] not in stored_answers
    env["client"].delete(f"/api/v1/webhooks/{made['id']}")

    env["rec"].fail_first = 2
    clock = [datetime.now(UTC)]
    with sessions.begin() as s:
        ids = emit_event(s, env["company_id"], "invoice.synced", {"invoice_id": "inv-1"}, now=clock[0])
        emit_event(s, env["company_id"], "reconciliation.completed", {}, now=clock[0])  # not subscribed
    assert len(ids) == 1
    policy = DeliveryPolicy(base_delay_s=10, allow_private_targets=True)
    with httpx.Client(timeout=5) as http:
        first = deliver_due(sessions, env["ring"], http, policy=policy, now=lambda: clock[0])
        assert (first.sent, first.retrying) == (1, 1)
        assert (
            deliver_due(sessions, env["ring"], http, policy=policy, now=lambda: clock[0]).sent == 0
        )  # not due
        clock[0] += timedelta(seconds=11)
        assert deliver_due(sessions, env["ring"], http, policy=policy, now=lambda: clock[0]).retrying == 1
        clock[0] += timedelta(seconds=15)
        assert (
            deliver_due(sessions, env["ring"], http, policy=policy, now=lambda: clock[0]).sent == 0
        )  # 20 s now
        clock[0] += timedelta(seconds=6)
        assert deliver_due(sessions, env["ring"], http, policy=policy, now=lambda: clock[0]).succeeded == 1
    rec = env["rec"]
    assert [c["valid"] for c in rec.calls] == [True, True, True]
    assert [c["attempt"] for c in rec.calls] == ["1", "2", "3"]
    assert {c["event"]["id"] for c in rec.calls} == {rec.calls[0]["event"]["id"]}  # one event id for all
    assert rec.calls[0]["event"]["type"] == "invoice.synced"

    detail = env["client"].get(f"/api/v1/webhook-deliveries/{ids[0]}").json()["data"]
    assert detail["status"] == "succeeded"
    assert [a["status_code"] for a in detail["attempt_log"]] == [500, 500, 200]
    listed = env["client"].get(f"/api/v1/webhooks/{sub['id']}/deliveries").json()
    assert listed["pagination"]["total"] == 1

    replayed = env["client"].post(f"/api/v1/webhook-deliveries/{ids[0]}/replay")
    assert replayed.status_code == 202
    with httpx.Client(timeout=5) as http:
        assert deliver_due(sessions, env["ring"], http, policy=policy).succeeded == 1
    assert rec.calls[-1]["event"]["id"] == rec.calls[0]["event"]["id"]


def test_wrong_secret_is_refused_by_the_receiver(setup, sessions) -> None:
    env = setup
    _subscribe(env)
    env["rec"].secret = "whsec_not_the_right_one"
    with sessions.begin() as s:
        emit_event(s, env["company_id"], "payment.received", {"amount": "10.00"})
    with httpx.Client(timeout=5) as http:
        result = deliver_due(sessions, env["ring"], http, policy=LOCAL)
    assert result.retrying == 1
    assert env["rec"].calls[0]["valid"] is False


def test_repeated_failure_disables_the_subscription(setup, sessions, caplog) -> None:
    env = setup
    sub = _subscribe(env)
    env["rec"].fail_first = 10_000
    policy = DeliveryPolicy(base_delay_s=1, disable_after=2, allow_private_targets=True)
    clock = [datetime.now(UTC)]
    with sessions.begin() as s:
        for i in range(3):
            emit_event(s, env["company_id"], "invoice.synced", {"n": i}, now=clock[0])
        s.execute(update(WebhookDelivery).values(max_attempts=2))
    caplog.set_level(logging.WARNING, logger="sierra_sync.webhooks.outgoing")
    with httpx.Client(timeout=5) as http:
        for _ in range(4):
            deliver_due(sessions, env["ring"], http, policy=policy, now=lambda: clock[0])
            clock[0] += timedelta(seconds=5)
    view = env["client"].get(f"/api/v1/webhooks/{sub['id']}").json()["data"]
    assert view["is_active"] is False
    assert "2 failed deliveries in a row" in view["disabled_reason"]
    assert any("disabled after 2 failed deliveries" in r.getMessage() for r in caplog.records)
    assert env["rec"].secret not in caplog.text
    with sessions() as s:
        statuses = sorted(d.status for d in s.scalars(select(WebhookDelivery)))
        assert statuses == ["failed", "failed", "failed"]  # the third stops once the subscription is off
        assert len(s.scalars(select(WebhookDeliveryAttempt)).all()) >= 4
    # Replay refuses while disabled; re-enabling resets the streak.
    with sessions() as s:
        first = s.scalars(select(WebhookDelivery.id)).first()
    assert env["client"].post(f"/api/v1/webhook-deliveries/{first}/replay").status_code == 409
    again = env["client"].patch(f"/api/v1/webhooks/{sub['id']}", json={"is_active": True}).json()["data"]
    assert (again["is_active"], again["consecutive_failures"], again["disabled_reason"]) == (True, 0, None)


def test_a_410_from_the_receiver_ends_the_subscription_at_once(setup, sessions) -> None:
    env = setup
    sub = _subscribe(env)
    env["rec"].gone = True
    with sessions.begin() as s:
        for i in range(2):
            emit_event(s, env["company_id"], "invoice.synced", {"n": i})
    policy = DeliveryPolicy(batch=1, allow_private_targets=True)  # the first delivery alone is sent
    clock = [datetime.now(UTC)]
    with httpx.Client(timeout=5) as http:
        result = deliver_due(sessions, env["ring"], http, policy=policy, now=lambda: clock[0])
        assert (result.sent, result.failed, result.retrying) == (1, 2, 0)
        assert result.disabled_subscriptions == [sub["id"]]
        clock[0] += timedelta(hours=2)
        later = deliver_due(sessions, env["ring"], http, policy=policy, now=lambda: clock[0])
    assert later.sent == 0  # nothing retried, nothing else sent
    assert len(env["rec"].calls) == 1
    view = env["client"].get(f"/api/v1/webhooks/{sub['id']}").json()["data"]
    assert view["is_active"] is False
    assert "410 Gone" in view["disabled_reason"]
    assert view["consecutive_failures"] == 0  # ended, not failing
    with sessions() as s:
        rows = s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.attempts.desc())).all()
        assert [(d.status, d.attempts, d.last_status_code) for d in rows] == [
            ("failed", 1, 410),
            ("failed", 0, None),
        ]
        assert "ended the subscription" in (rows[1].last_error or "")


def test_a_subscription_to_a_private_address_is_never_called(setup, sessions) -> None:
    """A URL accepted while private targets were allowed (or stored before the rule) is checked again at
    every delivery: with the rule on, nothing is sent and the attempt says why."""
    env = setup
    _subscribe(env)
    with sessions.begin() as s:
        emit_event(s, env["company_id"], "invoice.synced", {"invoice_id": "inv-9"})
    with httpx.Client(timeout=5) as http:
        result = deliver_due(sessions, env["ring"], http, policy=DeliveryPolicy())
    assert (result.sent, result.retrying) == (1, 1)
    assert env["rec"].calls == []
    with sessions() as s:
        attempt = s.scalars(select(WebhookDeliveryAttempt)).one()
    assert attempt.status_code is None
    assert attempt.error == "not sent: use an https:// URL (plain http would send your data unencrypted)"


def test_a_host_name_is_resolved_pinned_and_sent_with_its_name(setup, sessions) -> None:
    """`localhost` resolves to 127.0.0.1 (and often ::1 first, where nothing listens: the next address is
    tried); the receiver sees the name in Host, not the address."""
    env = setup
    port = httpx.URL(env["url"]).port
    env["url"] = f"http://localhost:{port}/hook"
    _subscribe(env)
    with sessions.begin() as s:
        emit_event(s, env["company_id"], "payment.received", {"amount": "12.50"})
    with httpx.Client(timeout=5) as http:
        assert deliver_due(sessions, env["ring"], http, policy=LOCAL).succeeded == 1
    assert [(c["valid"], c["host"]) for c in env["rec"].calls] == [(True, f"localhost:{port}")]


def _deliver_one_event(env: dict[str, Any], sessions, when: datetime) -> dict[str, Any]:
    with sessions.begin() as s:
        emit_event(s, env["company_id"], "invoice.synced", {"at": when.isoformat()}, now=when)
    with httpx.Client(timeout=5) as http:
        deliver_due(sessions, env["ring"], http, policy=LOCAL, now=lambda: when)
    call: dict[str, Any] = env["rec"].calls[-1]
    return call


def test_secret_rotation_keeps_the_old_secret_signing_until_it_expires(setup, sessions) -> None:
    env = setup
    sub = _subscribe(env)
    old = env["rec"].secret
    headers = {"Idempotency-Key": "rotate-1"}
    rotated = env["client"].post(f"/api/v1/webhooks/{sub['id']}/rotate-secret", json={}, headers=headers)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["data"]["secret"]
    assert new.startswith("whsec_") and new != old
    expires = datetime.fromisoformat(rotated.json()["data"]["previous_secret_expires_at"])
    assert timedelta(hours=23, minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=24)
    # A retried rotation (same Idempotency-Key) answers the same secret and does not rotate again.
    again = env["client"].post(f"/api/v1/webhooks/{sub['id']}/rotate-secret", json={}, headers=headers)
    assert again.json()["data"]["secret"] == new
    with sessions() as s:
        stored = " ".join(str(r.response_body) for r in s.scalars(select(ApiIdempotencyKey)))
        row = s.get(WebhookSubscription, uuid.UUID(sub["id"]))
        assert row is not None
        assert new not in stored and new not in (row.webhook_secret or "")
        assert old not in (row.previous_webhook_secret or "")

    # During the grace period each delivery carries both signatures: the old and the new receiver accept.
    now = datetime.now(UTC)
    call = _deliver_one_event(env, sessions, now)
    assert (call["valid"], call["v1"]) == (True, 2)
    env["rec"].secret = new
    assert _deliver_one_event(env, sessions, now)["valid"] is True
    # Past the expiry only the new secret signs (the receiver refuses the far-future timestamp anyway).
    assert _deliver_one_event(env, sessions, expires + timedelta(seconds=1))["v1"] == 1


def test_secret_rotation_with_no_grace_retires_the_old_secret_at_once(setup, sessions) -> None:
    env = setup
    sub = _subscribe(env)
    old = env["rec"].secret
    body = {"previous_secret_valid_for_s": 0}
    rotated = env["client"].post(f"/api/v1/webhooks/{sub['id']}/rotate-secret", json=body).json()["data"]
    assert rotated["previous_secret_expires_at"] is None
    call = _deliver_one_event(env, sessions, datetime.now(UTC))
    assert (call["valid"], call["v1"]) == (False, 1)
    env["rec"].secret = rotated["secret"]
    assert _deliver_one_event(env, sessions, datetime.now(UTC))["valid"] is True
    assert old != rotated["secret"]
    too_long = env["client"].post(
        f"/api/v1/webhooks/{sub['id']}/rotate-secret", json={"previous_secret_valid_for_s": 8 * 86_400}
    )
    assert too_long.status_code == 400
    assert too_long.json()["error"]["details"][0]["field"] == "previous_secret_valid_for_s"


def test_a_subscription_on_a_port_not_allowed_is_never_called(setup, sessions) -> None:
    """A URL stored before the port rule (or while private targets were allowed) is checked again at every
    delivery; a port the operator allows (SIERRA_WEBHOOKS_ALLOWED_PORTS) passes."""
    env = setup
    sub = _subscribe(env)
    with sessions.begin() as s:
        s.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == uuid.UUID(sub["id"]))
            .values(webhook_url="https://93.184.216.34:6379/hook")
        )
        emit_event(s, env["company_id"], "invoice.synced", {"invoice_id": "inv-10"})
    with httpx.Client(timeout=5) as http:
        result = deliver_due(sessions, env["ring"], http, policy=DeliveryPolicy())
    assert (result.sent, result.retrying) == (1, 1)
    with sessions() as s:
        attempt = s.scalars(select(WebhookDeliveryAttempt)).one()
    assert attempt.error is not None and attempt.error.startswith("not sent: port 6379 is not allowed")


def test_configured_ports_for_subscriptions(sessions, web_server, monkeypatch) -> None:
    from connectors.apikeys import create_key, parse_permissions

    monkeypatch.setenv("SIERRA_WEBHOOKS_ALLOWED_PORTS", " 9443, 10443 ")
    assert Settings().webhook_ports() == {9443, 10443}
    monkeypatch.setenv("SIERRA_WEBHOOKS_ALLOWED_PORTS", "9443,ssh")
    with pytest.raises(ConfigError, match="SIERRA_WEBHOOKS_ALLOWED_PORTS must be port numbers") as err:
        Settings().webhook_ports()
    assert "\n" not in err.value.message
    with sessions.begin() as s:
        key = create_key(s, factories.company(s).id, "hooks", parse_permissions(ALL)).raw
    deps = AppDeps(sessions=sessions, webhook_keyring=keyring(), webhook_ports=frozenset({9443}))
    with web_server.serve(deps) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        events = ["invoice.synced"]
        made = client.post(
            "/api/v1/webhooks", json={"url": "https://hooks.example.com:9443/in", "events": events}
        )
        assert made.status_code == 201, made.text
        refused = client.post(
            "/api/v1/webhooks", json={"url": "https://hooks.example.com:9444/in", "events": events}
        )
        assert refused.status_code == 400
        assert "port 9444 is not allowed" in refused.json()["error"]["details"][0]["message"]
