"""pytest plugin: stripe-python's own test suite against the local Stripe sandbox instead of stripe-mock.

The suite already reads where stripe-mock is from STRIPE_MOCK_HOST / STRIPE_MOCK_PORT; the harness points
them at the sandbox. stripe-mock answers any id with a fixture; Stripe (and the sandbox) only knows objects
that exist. So before each test that may reach the sandbox, this plugin resets it, makes real objects in the
state the test's endpoint needs (an uncaptured charge for a capture test, a paid payout for a reversal...) and
aliases stripe-mock's placeholder ids (`cus_xxxxxxxxxxxxx`, `cus_123`, `tok_xxxx`...) to them with
POST /__sandbox/aliases. Nothing of the suite is changed. $SIERRA_FIDELITY_STRIPE_URL is the sandbox's URL.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests

KEY = "sk_test_123"  # the key the suite sends
PLACEHOLDERS = ("xxxxxxxxxxxxx", "123", "xyz")
# Tests of these resources get fixtures; others (invoices, subscriptions...) are out of the sandbox's scope.
SERVED = ("charge", "customer", "payment_intent", "payment_method", "refund", "payout", "dispute",
          "webhook_endpoint", "event", "balance_transaction")  # fmt: skip


class Sandbox:
    """Just enough of a client to build fixtures: form-encoded /v1 calls and JSON admin calls."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {KEY}"

    def v1(self, method: str, path: str, **params: Any) -> dict[str, Any]:
        pairs = list(_flatten(params))
        url = f"{self.base}/v1/{path}"
        if method == "GET":
            response = self.http.request(method, url, params=pairs, timeout=30)
        else:
            response = self.http.request(method, url, data=pairs, timeout=30)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def admin(self, path: str, body: Any = None, method: str = "POST") -> Any:
        response = self.http.request(method, f"{self.base}/__sandbox/{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()


def _flatten(params: dict[str, Any], prefix: str = "") -> Any:
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else key
        if isinstance(value, dict):
            yield from _flatten(value, name)
        elif isinstance(value, list):
            for item in value:
                yield f"{name}[]", item
        else:
            yield name, str(value).lower() if isinstance(value, bool) else str(value)


def build_fixtures(sandbox: Sandbox, test_name: str) -> dict[str, str]:
    """Real objects for the placeholders; which state each is in depends on what the test does."""
    customer = sandbox.v1("POST", "customers", name="Fidelity Customer", email="fidelity@example.com")
    pm = sandbox.v1("POST", "payment_methods", type="card", card={"token": "tok_visa"})
    sandbox.v1("POST", f"payment_methods/{pm['id']}/attach", customer=customer["id"])
    open_intent = sandbox.v1("POST", "payment_intents", amount=2000, currency="usd", customer=customer["id"])
    held = sandbox.v1(
        "POST",
        "payment_intents",
        amount=2000,
        currency="usd",
        payment_method="pm_card_visa",
        capture_method="manual",
        confirm=True,
        payment_method_options={"card": {"request_incremental_authorization": "if_available"}},
    )
    paid = sandbox.v1("POST", "charges", amount=10000, currency="usd", source="tok_visa")
    uncaptured = sandbox.v1("POST", "charges", amount=2000, currency="usd", source="tok_visa", capture=False)
    disputed = sandbox.v1("POST", "charges", amount=3000, currency="usd", source="tok_visa")
    dispute = sandbox.admin(f"charges/{disputed['id']}/dispute")
    refund = sandbox.v1("POST", "refunds", charge=paid["id"], amount=500)
    if "refunds_cancel" in test_name:
        sandbox.admin(f"refunds/{refund['id']}/requires_action")
    sandbox.admin("clock", {"advance_days": 2})
    payout = sandbox.v1("POST", "payouts", amount=1000, currency="usd")
    if "reverse" in test_name:
        sandbox.admin("clock", {"advance_days": 3})
    endpoint = sandbox.v1(
        "POST", "webhook_endpoints", url="http://127.0.0.1:9/discarded", enabled_events=["charge.succeeded"]
    )
    event = sandbox.v1("GET", "events", limit=1)["data"][0]
    capture = "capture" in test_name or "increment" in test_name
    ids = {
        "cus": customer["id"],
        "pm": pm["id"],
        "pi": held["id"] if capture else open_intent["id"],
        "ch": uncaptured["id"] if capture else paid["id"],
        "re": refund["id"],
        "po": payout["id"],
        "dp": dispute["id"],
        "we": endpoint["id"],
        "evt": event["id"],
        "txn": paid["balance_transaction"],
    }
    aliases = {f"{prefix}_{suffix}": real for prefix, real in ids.items() for suffix in PLACEHOLDERS}
    aliases["tok_xxxx"] = "tok_visa"
    return aliases


def _reaches_the_sandbox(item: pytest.Item) -> bool:
    # `*_service` variants stub every request; the others go to what the suite believes is stripe-mock.
    return "http_client_mock" in getattr(item, "fixturenames", ()) and "_service" not in item.name


def _needs_fixtures(item: pytest.Item) -> bool:
    """Tests of the served resources get fixtures (even without an id: a payout needs funds)."""
    return any(name in item.nodeid for name in SERVED)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    base = os.environ.get("SIERRA_FIDELITY_STRIPE_URL")
    if not base or not _reaches_the_sandbox(item):
        return
    sandbox = Sandbox(base)
    sandbox.admin("reset")
    if not _needs_fixtures(item):
        return
    latency = sandbox.admin("faults", method="GET")["latency_ms"]
    sandbox.admin("faults", {"latency_ms": 0})  # building fixtures is not what is measured
    try:
        sandbox.admin("aliases", build_fixtures(sandbox, item.name))
    finally:
        sandbox.admin("faults", {"latency_ms": latency})
