"""Secrets never survive redaction; useful data does."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sierra_core.redact import (
    REDACTED,
    redact,
    redact_headers,
    redact_text,
    strip_client_secrets,
    strip_client_secrets_json,
)
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


# The project's own secrets are "prefix + secrets.token_urlsafe(32)": "-" and "_" anywhere in the random part.
OWN_SECRETS = [
    "sk_live_Qm3v-4VdVlLhAB_8sOhc-ZzY1xk9_Pq2Rs-TuVw8xYz0aBc",
    "sk_test_-kq9Wm_Lx3Z-pR7Tn2Vb8cD4fG6hJ1kL5mN0pQ3rS9uV",
    "rk_live_AbCd1234-_-EfGh5678_ijkl",
    "whsec_q-Zr_9Yt-Ww4VdVlLhAB_8sOhc-ZzY1xk9Pq2RsTuVw8xYz",
    "whsec_________-------AbC",
]


@pytest.mark.parametrize("secret", OWN_SECRETS)
def test_the_projects_own_secrets_are_masked_whole(secret):
    assert redact_text(f"key {secret} refused") == f"key {REDACTED} refused"
    assert redact({"q": secret, "note": f"({secret})"}) == {"q": REDACTED, "note": f"({REDACTED})"}


# Stripe client secrets (whoever holds one can confirm the payment from a browser) and ephemeral keys.
CLIENT_SECRETS = [
    "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH",
    "seti_1Mm8s8LkdIwHu7ix0OXBfTRG_secret_NXDICkPqPeiBTAUqaTuFhXgrOQ3DqBn",
    "cs_test_a1B2c3D4e5F6g7H8_secret_fidwbEhqYWpkPGB0cWNwaWtkbHR",
    "src_client_secret_ZkZXY3U7ZJMmlXD1PTtxA3Sn",
    "ek_test_YWNjdF8xTTJKVGtMa2RJd0h1N2l4LE9wUlhBNVpGcGhWU3hrWHdqMnd6c1dwRmtXa1pmQ2Q_00oPqLCt2l",
]


@pytest.mark.parametrize("secret", CLIENT_SECRETS)
def test_stripe_client_secrets_are_masked_in_text(secret):
    assert redact_text(f"intent {secret}.") == f"intent {REDACTED}."


def _payment_intent() -> dict[str, Any]:
    intent: dict[str, Any] = json.loads((FIXTURES / "stripe" / "payment_intent.json").read_text())["object"]
    return intent


def test_strip_client_secrets_removes_only_them():
    intent = _payment_intent()
    secret = intent["client_secret"]
    url = (
        "https://hooks.stripe.com/3d_secure_2/hosted?merchant=acct_1&payment_intent=pi_1PgafyB7WZ01zgkWSjxsAJo3"
        f"&payment_intent_client_secret={secret}&publishable_key=pk_test_x&source=src_1"
    )
    intent["next_action"] = {"type": "redirect_to_url", "redirect_to_url": {"url": url, "return_url": None}}
    event = {"id": "evt_1", "object": "event", "data": {"object": intent}, "type": "payment_intent.created"}
    key = {"id": "ephkey_1", "object": "ephemeral_key", "secret": CLIENT_SECRETS[-1], "expires": 1}
    document: dict[str, Any] = {
        "event": event,
        "keys": [key],
        "plain": {"secret": "not a Stripe object", "client_secret": None},
    }

    out = strip_client_secrets(document)

    assert secret not in json.dumps(out) and CLIENT_SECRETS[-1] not in json.dumps(out)
    stripped = out["event"]["data"]["object"]
    assert stripped["client_secret"] == REDACTED
    assert stripped["next_action"]["redirect_to_url"]["url"] == url.replace(secret, REDACTED)
    assert out["keys"] == [{**key, "secret": REDACTED}]
    assert out["plain"] == document["plain"]  # a null stays null; "secret" of another object is not Stripe's
    # Everything else is intact (unlike `redact`, which also drops card fingerprints, tokens, ...).
    rest = {k: v for k, v in stripped.items() if k not in ("client_secret", "next_action")}
    assert rest == {k: v for k, v in intent.items() if k not in ("client_secret", "next_action")}
    assert document["event"]["data"]["object"]["client_secret"] == secret  # input untouched


def test_strip_client_secrets_json_keeps_the_text_but_the_secrets():
    intent = _payment_intent()
    secret = intent["client_secret"]
    event = {"id": "evt_1", "object": "event", "data": {"object": intent}, "type": "payment_intent.created"}
    text = json.dumps(event, indent=2)

    out = strip_client_secrets_json(text)

    assert out == text.replace(secret, REDACTED)  # same bytes but the secret's
    assert json.loads(out) == strip_client_secrets(event)
    clean = json.dumps({"id": "evt_2", "data": {"object": {"id": "ch_1", "amount": 5}}}, indent=4)
    assert strip_client_secrets_json(clean) is clean
    # A value that cannot be replaced in place (it is also a name): the stripped document, re-serialised.
    odd = '{"client_secret": "client_secret", "amount": 5}'
    assert json.loads(strip_client_secrets_json(odd)) == {"client_secret": REDACTED, "amount": 5}
