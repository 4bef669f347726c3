"""Secrets never survive redaction; useful data does."""

from __future__ import annotations

import json

import pytest

from connectors.redact import REDACTED, redact, redact_headers, redact_text
from tests import fixtures

FIXTURES = fixtures.ROOT


@pytest.mark.parametrize(
    "key",
    [
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "Authorization",
        "api_key",
        "webhook_secret",
        "code_verifier",
        "password",
        "Stripe-Signature",
        "intuit-signature",
        "accessToken",
        "Cookie",
    ],
)
def test_secret_keys_are_removed_at_any_depth(key):
    payload = {"outer": [{"inner": {key: "s3cr3t-value-123"}}]}
    out = redact(payload)
    assert out["outer"][0]["inner"][key] == REDACTED
    assert "s3cr3t-value-123" not in json.dumps(out)
    assert payload["outer"][0]["inner"][key] == "s3cr3t-value-123"  # input untouched


def test_card_data_is_removed_but_last4_and_ids_stay():
    charge = {
        "id": "ch_1",
        "payment_method_details": {
            "card": {
                "number": "4242424242424242",
                "cvc": "123",
                "last4": "4242",
                "exp_month": 12,
                "brand": "visa",
            }
        },
        "description": "paid with 4000 0566 5566 5556 at the desk",
        "ClassRef": {"value": "5000000000000052467"},
    }
    out = redact(charge)
    card = out["payment_method_details"]["card"]
    assert card["number"] == REDACTED and card["cvc"] == REDACTED and card["exp_month"] == REDACTED
    assert card["last4"] == "4242" and card["brand"] == "visa"
    assert "4000 0566 5566 5556" not in out["description"] and "5556" in out["description"]
    assert out["ClassRef"]["value"] == "5000000000000052467"


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("Authorization: Bearer eyJraWQiOiJ.abc123def456ghi", "eyJraWQiOiJ.abc123def456ghi"),
        ("key sk_test_51Habcdefghijklmnop rejected", "sk_test_51Habcdefghijklmnop"),
        ("secret whsec_abcdefghijklmnop1234", "whsec_abcdefghijklmnop1234"),
        ("https://app/cb?code=AB11-secret-code&state=xyz", "AB11-secret-code"),
        ("refresh AB11234567890abcdefghijklmnopqr failed", "AB11234567890abcdefghijklmnopqr"),
        ("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyMTIzNDUifQ.c2lnbmF0dXJl", "eyJzdWIiOiJ1c2VyMTIzNDUifQ"),
    ],
)
def test_secrets_inside_free_text_are_masked(text, leak):
    assert leak not in redact_text(text)


def test_qbo_fault_bodies_survive_intact():
    body = json.loads((FIXTURES / "quickbooks" / "fault_5010_stale.json").read_text())["response"]["body"]
    assert redact(body) == body


def test_headers_helper_returns_plain_strings():
    out = redact_headers({"Authorization": "Basic bG9jYWw6c2VjcmV0", "Accept": "application/json"})
    assert out == {"Authorization": REDACTED, "Accept": "application/json"}
