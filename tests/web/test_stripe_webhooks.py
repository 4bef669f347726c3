"""POST /webhooks/stripe: verified, stored once, acknowledged fast, dispatched after the answer."""

from __future__ import annotations

import json
import logging
import time
import uuid

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from sierra_core import inbox
from sierra_sync.web import AppDeps
from tests import factories, fixtures
from tests.web.conftest import OLD_STRIPE_SECRET, STRIPE_SECRET, stripe_event, wait_for


def test_a_valid_event_is_stored_once_with_its_raw_body(receiver):
    body = stripe_event("evt_valid_1", amount=123456)
    started = time.perf_counter()
    response = receiver.post_stripe(body)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 1, "duplicates": 0}
    [row] = receiver.rows()
    assert (row.provider, row.event_id, row.event_type, row.status) == (
        "stripe",
        "evt_valid_1",
        "payment_intent.succeeded",
        "received",  # no handler registered: left for the flow
    )
    assert row.raw_payload == body.decode()  # byte for byte, as signed
    assert row.payload["data"]["object"]["amount"] == 123456
    assert row.company_id is None and row.integration_id is None
    wait_for(lambda: receiver.dispatcher.batches)
    assert [[e.event_id for e in batch] for batch in receiver.dispatcher.batches] == [["evt_valid_1"]]
    assert elapsed < 1.0


def test_a_duplicate_is_acknowledged_and_not_dispatched_again(receiver):
    body = stripe_event("evt_dup_1")
    assert receiver.post_stripe(body).json() == {"received": 1, "duplicates": 0}
    receiver.now[0] += 60  # Stripe's retry comes later, freshly signed
    again = receiver.post_stripe(body)
    assert again.status_code == 200 and again.json() == {"received": 0, "duplicates": 1}
    assert len(receiver.rows()) == 1
    wait_for(lambda: receiver.dispatcher.batches)
    time.sleep(0.05)
    assert len(receiver.dispatcher.batches) == 1


def test_the_company_and_stripe_integration_come_from_metadata(receiver, sessions):
    with sessions.begin() as s:
        company = factories.company(s)
        stripe_link = factories.integration(s, company.id, integration_type="stripe")
        company_id, integration_id = company.id, stripe_link.id
    receiver.post_stripe(
        stripe_event("evt_owned", metadata={"company_id": str(company_id), "invoice_id": "x"})
    )
    receiver.post_stripe(stripe_event("evt_stranger", metadata={"company_id": str(uuid.uuid4())}))
    receiver.post_stripe(stripe_event("evt_garbage", metadata={"company_id": "not-a-uuid"}))
    rows = {r.event_id: r for r in receiver.rows()}
    assert (rows["evt_owned"].company_id, rows["evt_owned"].integration_id) == (company_id, integration_id)
    assert rows["evt_stranger"].company_id is None and rows["evt_garbage"].company_id is None


def test_the_previous_secret_still_verifies_during_a_rotation(receiver):
    assert receiver.post_stripe(stripe_event("evt_old"), secret=OLD_STRIPE_SECRET).status_code == 200


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("wrong secret", 401),
        ("stale", 401),
        ("future", 401),
        ("tampered body", 401),
        ("no header", 401),
        ("no v1", 400),
        ("bad timestamp", 400),
        ("malformed json", 400),
        ("not an event", 400),
        ("no id", 400),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_stored(receiver, case, status, caplog):
    body = stripe_event("evt_bad")
    now = int(receiver.now[0])
    kwargs: dict[str, object] = {}
    if case == "wrong secret":
        kwargs["secret"] = "whsec_someoneelsesecret0001"
    elif case == "stale":
        kwargs["timestamp"] = now - 301
    elif case == "future":
        kwargs["timestamp"] = now + 301
    elif case == "no header":
        kwargs["header"] = ""
    elif case == "no v1":
        kwargs["header"] = f"t={now},v0=abc"
    elif case == "bad timestamp":
        kwargs["header"] = "t=yesterday,v1=abc"
    elif case == "malformed json":
        body = b'{"id": "evt_bad", "type": '
    elif case == "not an event":
        body = json.dumps({"id": "ch_1", "object": "charge", "type": "x"}).encode()
    elif case == "no id":
        body = json.dumps({"object": "event", "type": "charge.succeeded"}).encode()
    if case == "tampered body":
        signed = receiver.post_stripe  # sign one body, send another
        import stripe

        header = stripe.WebhookSignature.generate_signature_header(
            body.decode(), STRIPE_SECRET, timestamp=now
        )
        response = signed(body.replace(b"evt_bad", b"evt_bae"), header=header)
    else:
        with caplog.at_level(logging.INFO):
            response = receiver.post_stripe(body, **kwargs)
    assert response.status_code == status
    assert set(response.json()) == {"error"} and len(response.json()["error"]) < 120
    assert receiver.rows() == [] and receiver.dispatcher.batches == []
    if case != "tampered body":
        [line] = [r for r in caplog.records if r.name.startswith("sierra_sync.web")]
        assert line.levelno == logging.WARNING and "rejected stripe webhook" in line.getMessage()
        assert body.decode() not in line.getMessage()


def test_the_tolerance_edge_is_accepted(receiver):
    receiver.now[0] = float(int(receiver.now[0]))
    assert (
        receiver.post_stripe(stripe_event("evt_edge"), timestamp=int(receiver.now[0]) - 300).status_code
        == 200
    )


def test_a_database_outage_answers_503_so_stripe_retries(tmp_path, web_server):
    broken = sessionmaker(create_engine(f"sqlite:///{tmp_path}/empty.db"))  # no tables: every insert fails
    deps = AppDeps(sessions=broken, webhook_secrets={"stripe": [STRIPE_SECRET]})
    import stripe

    body = stripe_event("evt_db_down")
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), STRIPE_SECRET)
    with web_server.serve(deps) as client:
        response = client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})
        assert response.status_code == 503 and response.headers["Retry-After"] == "30"
        assert client.get("/healthz").status_code == 200  # the file opens; the schema is what is missing


def test_unconfigured_secret_answers_503_not_200(sessions, web_server):
    with web_server.serve(AppDeps(sessions=sessions)) as client:
        response = client.post(
            "/webhooks/stripe", content=stripe_event(), headers={"Stripe-Signature": "t=1,v1=x"}
        )
        assert response.status_code == 503
        assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}


def test_registered_handler_processes_and_failures_are_recorded(receiver):
    seen: list[str] = []

    def handle(event):
        seen.append(event.event_id)
        if event.event_type == "charge.refunded":
            raise RuntimeError("QuickBooks refused sk_test_abcdefghijklmnop: fix the fee account")
        return "ignored" if event.event_type == "customer.created" else "processed"

    receiver.dispatcher.register("stripe", handle)
    receiver.post_stripe(stripe_event("evt_a", "payment_intent.succeeded"))
    receiver.post_stripe(stripe_event("evt_b", "customer.created"))
    receiver.post_stripe(stripe_event("evt_c", "charge.refunded"))
    receiver.post_stripe(stripe_event("evt_a", "payment_intent.succeeded"))  # duplicate: not handled again
    wait_for(lambda: {r.status for r in receiver.rows()} <= {"processed", "ignored", "failed"})
    assert sorted(seen) == ["evt_a", "evt_b", "evt_c"]  # once each, in any order (background threads)
    rows = {r.event_id: r for r in receiver.rows()}
    assert [rows[k].status for k in ("evt_a", "evt_b", "evt_c")] == ["processed", "ignored", "failed"]
    assert rows["evt_a"].attempts == 1 and rows["evt_a"].processed_at is not None
    assert rows["evt_c"].error_message and "sk_test_abcdefghijklmnop" not in rows["evt_c"].error_message
    assert "fee account" in rows["evt_c"].error_message
    # The failed one is claimable again (a retry), the processed one is not.
    assert inbox.claim(receiver.deps.sessions, rows["evt_a"].id) is None
    assert inbox.claim(receiver.deps.sessions, rows["evt_c"].id) is not None


def test_client_secrets_are_never_stored_and_the_rest_is_intact(receiver):
    intent = json.loads((fixtures.ROOT / "stripe" / "payment_intent.json").read_text())["object"]
    secret = intent["client_secret"]
    intent["next_action"] = {
        "type": "redirect_to_url",
        "redirect_to_url": {"url": f"https://hooks.stripe.com/3ds?payment_intent_client_secret={secret}&x=1"},
    }
    event = {
        "id": "evt_with_client_secret",
        "object": "event",
        "created": int(receiver.now[0]),
        "data": {"object": intent},
        "livemode": False,
        "type": "payment_intent.requires_action",
    }
    body = json.dumps(event, indent=2).encode()
    assert receiver.post_stripe(body).status_code == 200
    [row] = receiver.rows()
    assert secret not in row.raw_payload and secret not in json.dumps(row.payload)
    stored = row.payload["data"]["object"]
    assert stored["client_secret"] == "[REDACTED]"
    assert (
        stored["next_action"]["redirect_to_url"]["url"]
        == "https://hooks.stripe.com/3ds?payment_intent_client_secret=[REDACTED]&x=1"
    )
    assert {k: v for k, v in stored.items() if k not in ("client_secret", "next_action")} == {
        k: v for k, v in intent.items() if k not in ("client_secret", "next_action")
    }
    assert row.raw_payload == body.decode().replace(secret, "[REDACTED]")  # as received but the secret
    assert json.loads(row.raw_payload) == row.payload
