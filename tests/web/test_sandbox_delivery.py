"""Real signed deliveries from the Stripe sandbox to the receiver over HTTP, and a scan of every log line
for secrets (signing secret, signatures, API key, verifier token)."""

from __future__ import annotations

import logging
import re
import uuid
from decimal import Decimal

import stripe
from sqlalchemy import select

from connectors.stripe import InvoicePayment, RetryPolicy, StripeGateway
from sierra_core.db.models import WebhookEvent
from tests import factories
from tests.web.conftest import STRIPE_SECRET, VERIFIER, intuit_signature, stripe_event, wait_for

API_KEY = "sk_test_receiverdelivery0001"
HEX64 = re.compile(r"\b[0-9a-f]{64}\b")


def _pay(stripe_sandbox, company_id: uuid.UUID) -> str:
    gateway = StripeGateway(API_KEY, base_url=stripe_sandbox.url, retry=RetryPolicy(sleep=lambda s: None))
    payment = InvoicePayment(invoice_id=uuid.uuid4(), company_id=company_id, balance=Decimal("250.00"))
    intent = gateway.create_invoice_payment_intent(payment)
    gateway.confirm_payment_intent(intent.id, "pm_card_visa")
    return intent.id


def _stored(sessions) -> list[WebhookEvent]:
    with sessions() as s:
        return list(s.scalars(select(WebhookEvent).where(WebhookEvent.provider == "stripe")))


def test_sandbox_deliveries_are_stored_once_even_when_redelivered(receiver, stripe_sandbox, sessions):
    with sessions.begin() as s:
        company_id = factories.company(s).id
    stripe_sandbox.admin(
        "POST", "webhook_endpoints", {"url": f"{receiver.url}/webhooks/stripe", "secret": STRIPE_SECRET}
    )
    intent_id = _pay(stripe_sandbox, company_id)
    wait_for(lambda: len(_stored(sessions)) == 3)
    rows = _stored(sessions)
    assert sorted(str(r.event_type) for r in rows) == [
        "charge.succeeded",
        "payment_intent.created",
        "payment_intent.succeeded",
    ]
    assert all(r.company_id == company_id for r in rows)
    succeeded = next(r for r in rows if r.event_type == "payment_intent.succeeded")
    assert succeeded.payload and succeeded.payload["data"]["object"]["id"] == intent_id
    # The PaymentIntent's client secret (it confirms the payment from a browser) is never stored.
    for row in rows:
        assert "_secret_" not in row.raw_payload, row.event_type
        obj = (row.payload or {})["data"]["object"]
        if obj["object"] == "payment_intent":
            assert obj["client_secret"] == "[REDACTED]"
    # Stripe sends duplicates: the receiver acknowledges them and stores nothing new.
    stripe_sandbox.admin("POST", "webhooks/redeliver", {"event_id": succeeded.event_id})
    stripe_sandbox.admin("POST", "webhooks/deliver", {"order": "reverse"})
    wait_for(lambda: not stripe_sandbox.admin("GET", "webhooks/deliveries?status=pending")["data"])
    deliveries = stripe_sandbox.admin("GET", "webhooks/deliveries")["data"]
    assert len(deliveries) == 4 and all(d["status"] == "delivered" for d in deliveries)
    assert all(a["status_code"] == 200 for d in deliveries for a in d["attempts"])
    assert len(_stored(sessions)) == 3


def test_no_secret_reaches_any_log_line(receiver, stripe_sandbox, sessions, caplog):
    caplog.set_level(logging.DEBUG)
    stripe_sandbox.admin(
        "POST", "webhook_endpoints", {"url": f"{receiver.url}/webhooks/stripe", "secret": STRIPE_SECRET}
    )
    with sessions.begin() as s:
        company_id = factories.company(s).id
    _pay(stripe_sandbox, company_id)
    wait_for(lambda: len(_stored(sessions)) == 3)
    body = stripe_event("evt_scan")
    now = int(receiver.now[0])
    good = stripe.WebhookSignature.generate_signature_header(body.decode(), STRIPE_SECRET, timestamp=now)
    forged = stripe.WebhookSignature.generate_signature_header(
        body.decode(), "whsec_forgedsecret000001", timestamp=now
    )
    stale = stripe.WebhookSignature.generate_signature_header(
        body.decode(), STRIPE_SECRET, timestamp=now - 900
    )
    for header in (good, forged, stale, good):
        receiver.post_stripe(body, header=header)
    qbo_body = b'{"eventNotifications": [{"realmId": "1", "dataChangeEvent": {"entities": []}}]}'
    receiver.post_quickbooks(qbo_body)
    receiver.post_quickbooks(qbo_body, signature=intuit_signature(qbo_body, "wrong"))
    bad = StripeGateway(
        "sk_live_notallowedhere00001", base_url=stripe_sandbox.url, retry=RetryPolicy(sleep=lambda s: None)
    )
    try:
        bad.retrieve_payment_intent("pi_x")
    except Exception as exc:
        logging.getLogger("sierra_sync.test").error("gateway failed: %s", exc)

    lines = [f"{r.name} {r.getMessage()}" for r in caplog.records]
    text = "\n".join(lines)
    assert any("rejected stripe webhook" in line for line in lines)
    assert any("rejected quickbooks_online webhook" in line for line in lines)
    signatures = [h.split("v1=")[1] for h in (good, forged, stale)] + [intuit_signature(qbo_body)]
    for secret in (STRIPE_SECRET, VERIFIER, API_KEY, "sk_live_notallowedhere00001", *signatures):
        assert secret not in text
    assert not HEX64.search(text)
