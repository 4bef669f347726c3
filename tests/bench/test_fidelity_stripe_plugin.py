# mypy: disable-error-code="union-attr"
"""The stripe-python plugin builds real sandbox objects behind stripe-mock's placeholder ids."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import stripe

from bench.fidelity.runner import PLUGINS
from sandbox.common.server import LocalServer
from sandbox.stripe import create_app


def _plugin() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "sierra_fidelity_stripe", PLUGINS / "sierra_fidelity_stripe.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_placeholders_name_objects_in_the_state_the_test_needs() -> None:
    plugin = _plugin()
    with LocalServer(create_app()) as server:
        sandbox = plugin.Sandbox(server.url)
        client = stripe.StripeClient(plugin.KEY, base_addresses={"api": server.url})
        sandbox.admin("aliases", plugin.build_fixtures(sandbox, "test_payment_intents_capture_post"))
        assert client.v1.payment_intents.capture("pi_xxxxxxxxxxxxx").status == "succeeded"
        assert client.v1.charges.capture("ch_123").captured is True
        assert client.v1.customers.retrieve("cus_xyz").name == "Fidelity Customer"
        sandbox.admin("reset")
        sandbox.admin("aliases", plugin.build_fixtures(sandbox, "test_payouts_reverse_post"))
        assert client.v1.payouts.reverse("po_xxxxxxxxxxxxx").amount == 1000
        assert client.v1.charges.create(params={"amount": 2000, "currency": "usd", "source": "tok_xxxx"}).paid
