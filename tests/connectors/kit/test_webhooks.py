"""Every declared webhook scheme, checked with the provider's own way of signing (Stripe's SDK for Stripe),
and the verification handshakes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
import stripe

from connectors.kit.webhooks import SignatureError, handshake_answer, verify
from connectors.quickbooks.provider import QUICKBOOKS
from tests import fixtures
from tests.connectors.kit import providers as p

NOW = 1_780_000_000


def _b64(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def test_intuit_signature_over_the_real_notification():
    body = json.dumps(
        json.loads(fixtures.QUICKBOOKS.joinpath("webhook_notification.json").read_text())["request"]["body"]
    ).encode()
    spec = QUICKBOOKS.webhooks
    verify(spec, body, {"Intuit-Signature": _b64("verifier", body)}, ["verifier"], now=NOW)
    with pytest.raises(SignatureError, match="does not match") as wrong:
        verify(spec, body, {"intuit-signature": _b64("other", body)}, ["verifier"], now=NOW)
    assert wrong.value.status == 401 and "verifier" not in wrong.value.reason
    with pytest.raises(SignatureError, match="not base64") as malformed:
        verify(spec, body, {"intuit-signature": "%%%"}, ["verifier"], now=NOW)
    assert malformed.value.status == 400
    with pytest.raises(SignatureError, match="missing intuit-signature"):
        verify(spec, body, {}, ["verifier"], now=NOW)


def test_stripe_signatures_made_by_the_sdk_pass_within_the_window_with_either_secret():
    body = b'{"id": "evt_1", "object": "event"}'
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), "whsec_new", timestamp=NOW)
    for secrets in (["whsec_new"], ["whsec_old", "whsec_new"]):
        verify(p.STRIPE_LIKE, body, {"stripe-signature": header}, secrets, now=NOW + 299)
    with pytest.raises(SignatureError, match="tolerance"):
        verify(p.STRIPE_LIKE, body, {"stripe-signature": header}, ["whsec_new"], now=NOW + 301)
    with pytest.raises(SignatureError, match="does not match"):
        verify(p.STRIPE_LIKE, body + b" ", {"stripe-signature": header}, ["whsec_new"], now=NOW)
    with pytest.raises(SignatureError, match="needs t= and v1=") as bad:
        verify(p.STRIPE_LIKE, body, {"stripe-signature": "v0=abc"}, ["whsec_new"], now=NOW)
    assert bad.value.status == 400


def test_slack_style_timestamp_header_and_prefix():
    body = b'{"type": "event_callback"}'
    digest = hmac.new(b"slack-secret", f"v0:{NOW}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Signature": f"v0={digest}", "X-Slack-Request-Timestamp": str(NOW)}
    verify(p.SLACK_LIKE, body, headers, ["slack-secret"], now=NOW)
    with pytest.raises(SignatureError, match="missing X-Slack-Request-Timestamp"):
        verify(p.SLACK_LIKE, body, {"X-Slack-Signature": f"v0={digest}"}, ["slack-secret"], now=NOW)


def test_square_signs_the_notification_url_with_the_body():
    body, url = b'{"merchant_id": "M1"}', "https://sync.example.com/webhooks/square"
    header = {"x-square-hmacsha256-signature": _b64("sq-key", url.encode() + body)}
    verify(p.SQUARE_LIKE, body, header, ["sq-key"], now=NOW, url=url)
    with pytest.raises(SignatureError, match="does not match"):
        verify(p.SQUARE_LIKE, body, header, ["sq-key"], now=NOW, url="https://elsewhere.example.com/hook")


def test_shared_secret_is_compared_whole():
    verify(p.GOOGLE_LIKE, b"", {"X-Goog-Channel-Token": "chan-secret"}, ["chan-secret"], now=NOW)
    for wrong in ("chan-secre", "chan-secret-", ""):
        with pytest.raises(SignatureError):
            verify(p.GOOGLE_LIKE, b"", {"X-Goog-Channel-Token": wrong}, ["chan-secret"], now=NOW)


def test_no_secret_configured_is_a_503_not_an_open_door():
    with pytest.raises(SignatureError) as err:
        verify(p.INTUIT_LIKE, b"{}", {"intuit-signature": _b64("x", b"{}")}, [], now=NOW)
    assert err.value.status == 503


def test_handshakes_are_answered_and_body_challenges_only_once_verified():
    dropbox = handshake_answer(p.DROPBOX_LIKE, "GET", {"challenge": "abc123"}, {}, b"", verified=False)
    assert dropbox is not None and dropbox.body == b"abc123" and dropbox.media_type == "text/plain"
    graph = handshake_answer(p.GRAPH_LIKE, "POST", {"validationToken": "tok en"}, {}, b"", verified=False)
    assert graph is not None and graph.body == b"tok en"
    slack_body = b'{"type": "url_verification", "challenge": "c-1"}'
    assert handshake_answer(p.SLACK_LIKE, "POST", {}, {}, slack_body, verified=False) is None
    slack = handshake_answer(p.SLACK_LIKE, "POST", {}, {}, slack_body, verified=True)
    assert slack is not None and slack.body == b"c-1"
    assert handshake_answer(p.INTUIT_LIKE, "POST", {"challenge": "x"}, {}, b"{}", verified=True) is None
