"""Xero webhooks: the signature over the raw body, the intent-to-receive check and event deliveries through
the real ingress (POST /webhooks/xero over a socket), and the adapter's reading of Xero's events."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from sqlalchemy import select

from connectors.kit.adapter import MalformedEventError
from connectors.kit.registry import get_adapter
from connectors.kit.webhooks import SignatureError, verify
from connectors.xero.provider import XERO
from connectors.xero.webhooks import webhook_events
from sierra_core.db.models import WebhookEvent as InboxRow
from sierra_sync.web import AppDeps
from tests import factories, fixtures

KEY = "xero-webhook-key-for-tests+/=="
TENANT = "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"
DELIVERY = fixtures.ROOT / "xero" / "webhook_delivery.json"
INTENT = fixtures.ROOT / "xero" / "webhook_intent_to_receive.json"


def _sign(body: bytes, key: str = KEY) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def test_the_registry_knows_xero_and_its_signature_is_base64_hmac_of_the_raw_body():
    assert get_adapter("Xero").provider is XERO
    body = INTENT.read_bytes()
    verify(XERO.webhooks, body, {"X-Xero-Signature": _sign(body)}, [KEY], now=0)
    with pytest.raises(SignatureError, match="does not match") as wrong:
        verify(XERO.webhooks, body + b"\n", {"x-xero-signature": _sign(body)}, [KEY], now=0)
    assert wrong.value.status == 401 and KEY not in wrong.value.reason


def test_events_are_keyed_by_tenant_with_stable_ids():
    events = webhook_events(DELIVERY.read_bytes())
    assert [(e.event_type, e.tenant_id) for e in events] == [
        ("xero.contact.updated", TENANT),
        ("xero.invoice.created", TENANT),
    ]
    first = events[0]
    assert first.payload["resourceId"] == "717f2bfc-c6d4-41fd-b238-3f2f0c0cf777"
    assert first.payload["category"] == "CONTACT" and first.payload["operation"] == "updated"
    assert first.event_id == webhook_events(DELIVERY.read_bytes())[0].event_id  # a re-delivery: same id
    assert len({e.event_id for e in events}) == 2
    assert webhook_events(INTENT.read_bytes()) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not valid JSON"),
        (b'{"entropy": "x"}', "events list"),
        (b'{"events": ["x"]}', "must be an object"),
        (b'{"events": [{"tenantId": "t", "eventCategory": "INVOICE"}]}', "lacks eventType"),
    ],
)
def test_what_is_not_a_xero_delivery_is_refused_with_a_reason(body, reason):
    with pytest.raises(MalformedEventError, match=reason):
        webhook_events(body)


@pytest.fixture
def ingress(sessions, web_server):
    """The real ingress app over a real socket (uvicorn), with Xero's webhook key configured."""
    with web_server.serve(AppDeps(sessions=sessions, webhook_secrets={"xero": [KEY]})) as client:
        yield client


def test_intent_to_receive_through_the_real_ingress_within_five_seconds(ingress, sessions):
    body = INTENT.read_bytes()
    started = time.monotonic()
    good = ingress.post("/webhooks/xero", content=body, headers={"x-xero-signature": _sign(body)})
    bad = ingress.post("/webhooks/xero", content=body, headers={"x-xero-signature": _sign(body, "wrong")})
    missing = ingress.post("/webhooks/xero", content=body)
    assert time.monotonic() - started < 5
    assert (good.status_code, bad.status_code, missing.status_code) == (200, 401, 401)
    assert good.json() == {"received": 0, "duplicates": 0}
    with sessions() as s:
        assert s.scalars(select(InboxRow)).all() == []


def test_a_delivery_lands_in_the_inbox_with_the_company_of_its_tenant(ingress, sessions):
    with sessions.begin() as s:
        company = factories.company(s)
        link = factories.integration(s, company.id, integration_type="xero", external_company_id=TENANT)
        company_id, integration_id = company.id, link.id
    body = DELIVERY.read_bytes()
    answer = ingress.post("/webhooks/xero", content=body, headers={"x-xero-signature": _sign(body)})
    assert answer.status_code == 200 and answer.json() == {"received": 2, "duplicates": 0}
    again = ingress.post("/webhooks/xero", content=body, headers={"x-xero-signature": _sign(body)})
    assert again.json() == {"received": 0, "duplicates": 2}
    with sessions() as s:
        rows = s.scalars(select(InboxRow).where(InboxRow.provider == "xero")).all()
    assert {(r.company_id, r.integration_id) for r in rows} == {(company_id, integration_id)}
    assert sorted(r.event_type for r in rows) == ["xero.contact.updated", "xero.invoice.created"]
    assert json.loads(rows[0].raw_payload) == json.loads(body)
